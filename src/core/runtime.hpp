#pragma once
// The set of shards: creates them, runs each on its own pinned thread, passes work between them,
// and shuts them down gracefully.
#include "core/connection.hpp"
#include "core/metrics.hpp"
#include "core/process_claim.hpp"
#include "core/shard.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace junction {

// What /api/v1/server reports of each listening socket.
struct listener_info {
  std::string protocol;  // "http", "https", later "rtmp", "sip", ...
  std::string transport; // "tcp" or "udp"
  std::string address;   // "127.0.0.1:8080" as bound
};

struct runtime_options {
  unsigned shards = 0;  // 0: one per CPU this process may run on
  bool pin_cpus = true;
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_source = 0;  // 0: no limit
  // Let another process bind the same listen addresses (SO_REUSEPORT shares the traffic);
  // otherwise a second junction on them is refused (core/process_claim.hpp).
  bool share_listeners = false;
};

class runtime {
 public:
  // Every metric must be declared in `registry` before shards record into it; the registry
  // outlives the runtime.
  runtime(const runtime_options& options, metric_registry& registry);
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  ~runtime();

  unsigned size() const noexcept { return static_cast<unsigned>(shards_.size()); }
  shard& at(unsigned index) noexcept { return *shards_[index]; }
  metric_registry& registry() noexcept { return registry_; }
  connection_limit& limit() noexcept { return limit_; }
  source_limit& source_limits() noexcept { return sources_; }
  std::vector<const shard_metrics*> all_metrics() const;
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }

  // Runs `work` on shard `index`'s thread. The one way across shards: a hop is always visible.
  template <class F>
  void post(unsigned index, F&& work) {
    boost::asio::post(shards_[index]->context(), std::forward<F>(work));
  }

  // Listeners are recorded before start() and read-only afterwards.
  void add_listener(listener_info info) { listeners_.push_back(std::move(info)); }
  const std::vector<listener_info>& listeners() const noexcept { return listeners_; }
  // Before binding `host:port` (a port of its own, not 0) over `transport`: claims it for this
  // process, or throws std::runtime_error naming it when another junction has it (unless
  // share_listeners).
  void claim_listen_address(std::string_view transport, const std::string& host, std::uint16_t port);
  process_claims& claims() noexcept { return claims_; }

  void start();
  // Stop accepting everywhere, close idle connections, let busy ones finish.
  void drain();
  // Close every connection at once.
  void close_all();
  // Connections still open on all shards.
  std::size_t open_connections() const noexcept { return limit_.open(); }
  // Drain, wait until no connection is open, `deadline` passes or `hurry()` says so; close the
  // rest; stop. `hurry` is polled from the calling thread (a second signal, say).
  void shutdown(std::chrono::milliseconds deadline, const std::function<bool()>& hurry = {});
  // Stop every event loop and join the threads (idempotent).
  void stop();

  // The CPUs this process may run on, in order (shard i is pinned to cpus[i % size]).
  static std::vector<int> allowed_cpus();

 private:
  metric_registry& registry_;
  connection_limit limit_;
  source_limit sources_;
  bool pin_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::vector<std::thread> threads_;
  std::vector<listener_info> listeners_;
  std::chrono::steady_clock::time_point started_;
  bool share_listeners_ = false;
  process_claims claims_;
};

}  // namespace junction
