#pragma once
// A shard: one event loop on one thread pinned to one core. Sessions live on one shard for life;
// a shard's state is touched only from its own thread, and other threads reach it by posting.
#include "core/connection.hpp"
#include "core/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace junction {

class runtime;
class shared_tick;

class shard {
 public:
  shard(runtime& owner, unsigned index);
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  unsigned index() const noexcept { return index_; }
  boost::asio::io_context& context() noexcept { return context_; }
  runtime& owner() noexcept { return owner_; }
  shard_metrics& metrics() noexcept { return metrics_; }
  const shard_metrics& metrics() const noexcept { return metrics_; }
  connection_registry& connections() noexcept { return connections_; }
  // The tick that publishers of this shard read at when writes are merged (rtmp.merge_write).
  shared_tick& merge_tick() noexcept { return *merge_tick_; }

  // True once the server began shutting down: finish the current exchange, then close.
  bool draining() const noexcept { return draining_; }
  // Runs when draining starts, on this shard (listeners stop accepting here).
  void on_drain(std::function<void()> hook) { drain_hooks_.push_back(std::move(hook)); }

  // The shard whose thread is calling, or nullptr on any other thread.
  static shard* current() noexcept;

 private:
  friend class runtime;
  void run(int cpu);
  void settle();  // after the stop: see runtime.cpp
  void begin_drain();
  static constexpr std::chrono::milliseconds settle_time{50};

  runtime& owner_;
  unsigned index_;
  boost::asio::io_context context_;
  shard_metrics metrics_;
  connection_registry connections_;
  std::vector<std::function<void()>> drain_hooks_;
  bool draining_ = false;
  // After context_: its timer goes before the loop it is bound to.
  std::unique_ptr<shared_tick> merge_tick_;
};

}  // namespace junction
