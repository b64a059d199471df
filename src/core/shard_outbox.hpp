#pragma once
// Posts to other shards, batched per turn. Work meant for another shard waits in a batch per
// target until what the shard is doing now is done (a flush posted to itself runs after the
// handlers already queued: the rest of a burst of datagrams read in one turn), then crosses in one
// post. Each post to a sleeping shard costs a system call here and a wake-up there, more than the
// work it carries on a loaded or virtualised machine; a burst of N messages for one shard now
// costs one. Order per target is kept; nothing waits longer than the current turn. Only the home
// shard's thread touches an outbox.
#include "core/runtime.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace junction {

// A move-only job: what crosses may own a message that cannot be copied.
class shard_job {
 public:
  shard_job() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, shard_job>>>
  shard_job(F&& f) : run_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}
  void operator()() { run_->call(); }

 private:
  struct concept_ {
    virtual ~concept_() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct model final : concept_ {
    template <class G>
    explicit model(G&& g) : f(std::forward<G>(g)) {}
    void call() override { f(); }
    F f;
  };
  std::unique_ptr<concept_> run_;
};

class shard_outbox {
 public:
  // `max_batch`: a batch that reaches it goes at once.
  shard_outbox(runtime& rt, shard& home, std::size_t max_batch = 64);
  shard_outbox(const shard_outbox&) = delete;
  shard_outbox& operator=(const shard_outbox&) = delete;

  // `target` is another shard's index.
  void post(unsigned target, shard_job work);
  // Sends every batch now.
  void flush();
  std::size_t pending() const noexcept { return count_; }
  std::uint64_t posts() const noexcept { return posts_; }  // batches sent so far

 private:
  void send(unsigned target);

  runtime& rt_;
  shard& home_;
  std::size_t max_batch_;
  std::vector<std::vector<shard_job>> batches_;  // by target
  std::size_t count_ = 0;
  std::uint64_t posts_ = 0;
  bool flush_queued_ = false;
};

}  // namespace junction
