#include "core/worker_pool.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace junction {

// A queue and a thread. The queue's lock is held only to push or pop a job: never while a
// codec runs, and never by two shards for long (a post is one push).
struct worker_pool::worker {
  std::mutex lock;
  std::condition_variable wake;
  std::deque<std::function<void()>> jobs;
  bool stopping = false;
  std::atomic<std::size_t> calls{0};  // assigned and not released (any shard assigns)
  std::thread thread;

  void run(int nice) {
    // Per-thread priority on Linux: setpriority with the thread id.
    if (nice) setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock l(lock);
        wake.wait(l, [this] { return stopping || !jobs.empty(); });
        if (stopping) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }
};

worker_pool::worker_pool(unsigned threads, int nice) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<worker>());
    auto* w = workers_.back().get();
    w->thread = std::thread([w, nice] { w->run(nice); });
  }
}

worker_pool::~worker_pool() { stop(); }

void worker_pool::stop() {
  for (auto& w : workers_) {
    {
      std::lock_guard l(w->lock);
      w->stopping = true;
    }
    w->wake.notify_one();
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

std::size_t worker_pool::assign() {
  // Two shards assigning at once may pick the same worker: a balance, not an invariant.
  auto it = std::min_element(workers_.begin(), workers_.end(),
                             [](const auto& a, const auto& b) { return a->calls.load() < b->calls.load(); });
  ++(*it)->calls;
  return static_cast<std::size_t>(it - workers_.begin());
}

void worker_pool::release(std::size_t i) {
  if (i < workers_.size()) {
    auto& calls = workers_[i]->calls;
    for (auto n = calls.load(); n > 0 && !calls.compare_exchange_weak(n, n - 1);) {
    }
  }
}

void worker_pool::post(std::size_t i, std::function<void()> job) {
  auto& w = *workers_.at(i);
  {
    std::lock_guard l(w.lock);
    w.jobs.push_back(std::move(job));
  }
  w.wake.notify_one();
}

}  // namespace junction
