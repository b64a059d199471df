#include "core/shard_outbox.hpp"

#include <boost/asio/post.hpp>

namespace junction {

shard_outbox::shard_outbox(runtime& rt, shard& home, std::size_t max_batch)
    : rt_(rt), home_(home), max_batch_(max_batch ? max_batch : 1), batches_(rt.size()) {}

void shard_outbox::post(unsigned target, shard_job work) {
  auto& batch = batches_[target];
  batch.push_back(std::move(work));
  ++count_;
  if (batch.size() >= max_batch_) send(target);
  if (count_ > 0 && !flush_queued_) {
    // Runs after the handlers queued on this shard now: the end of this turn. A post from the
    // shard's own thread to its context (concurrency hint 1, runtime.cpp) is a push on the
    // thread's private queue: no lock, no system call.
    flush_queued_ = true;
    boost::asio::post(home_.context(), [this] {
      flush_queued_ = false;
      flush();
    });
  }
}

void shard_outbox::flush() {
  for (unsigned t = 0; t < batches_.size() && count_ > 0; ++t)
    if (!batches_[t].empty()) send(t);
}

void shard_outbox::send(unsigned target) {
  auto& batch = batches_[target];
  count_ -= batch.size();
  ++posts_;
  if (batch.size() == 1) {
    rt_.post(target, [job = std::move(batch.front())]() mutable { job(); });
  } else {
    rt_.post(target, [jobs = std::move(batch)]() mutable {
      for (auto& job : jobs) job();
    });
  }
  batch.clear();  // moved from: empty, as clear() makes sure
}

}  // namespace junction
