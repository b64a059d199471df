#pragma once
// Settings that a reload may replace while the shards run (SIGHUP, POST /api/v1/reload): one
// immutable snapshot per shard. The main thread publishes a new snapshot by posting it to each
// shard; a shard only ever reads its own slot, and only its own thread writes it, so nothing is
// shared mutably. Who holds the old snapshot (a connection that began under it) keeps it alive:
// connections keep the settings they started with, new ones get the new.
#include <memory>
#include <vector>

#include "core/runtime.hpp"
#include "core/shard.hpp"

namespace junction {

template <class T>
class shard_local {
 public:
  shard_local(runtime& rt, std::shared_ptr<const T> first) : rt_(rt), slots_(rt.size(), first), latest_(std::move(first)) {}
  shard_local(const shard_local&) = delete;
  shard_local& operator=(const shard_local&) = delete;

  // On a shard of this runtime: its snapshot. Elsewhere (the main thread): the latest published.
  const std::shared_ptr<const T>& share() const noexcept {
    if (shard* here = shard::current(); here && &here->owner() == &rt_) return slots_[here->index()];
    return latest_;
  }
  const T& get() const noexcept { return *share(); }

  // From the main thread: every shard takes `next` when it gets to it.
  void publish(std::shared_ptr<const T> next) {
    latest_ = next;
    for (unsigned i = 0; i < rt_.size(); ++i) rt_.post(i, [this, i, next] { slots_[i] = next; });
  }

 private:
  runtime& rt_;
  std::vector<std::shared_ptr<const T>> slots_;
  std::shared_ptr<const T> latest_;
};

}  // namespace junction
