#pragma once
// The threads transcoding runs on, away from the shards (docs/architecture.md, "Where
// transcoding runs"): each worker is an event loop of its own, at a lower scheduling priority
// than the shards. A call's transcoders are given one worker for the call's life; its shard
// posts frames to that worker and the worker posts results back.
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace junction::transcode {

class worker_pool {
 public:
  // `threads` workers (0: one per core), each lowered to `nice` (0 keeps the caller's priority).
  explicit worker_pool(unsigned threads = 0, int nice = 10);
  ~worker_pool();  // stops
  // Ends the threads: queued jobs that have not started are dropped, and later posts are kept
  // but never run. assign/release/post stay safe to call.
  void stop();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  std::size_t size() const noexcept { return workers_.size(); }
  // The worker for a new call: the one with the fewest calls assigned and not released.
  std::size_t assign();
  void release(std::size_t worker);
  // Runs `job` on `worker`'s thread, after the jobs posted to it before.
  void post(std::size_t worker, std::function<void()> job);

 private:
  struct worker;
  std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace junction::transcode
