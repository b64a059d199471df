#pragma once
// [server]: the runtime's settings (shards, connection limits, shutdown, logging).
#include <chrono>
#include <cstddef>
#include <string>

#include "core/config_section.hpp"

namespace junction {

struct server_config {
  unsigned shards = 0;  // 0: one per CPU
  bool pin_cpus = true;
  bool listen_all = false;  // default listeners bind every address instead of loopback
  std::size_t max_connections = 10000;
  // Connections one source (an IPv4 address, an IPv6 /64) may hold at once; 0: no limit.
  std::size_t max_connections_per_source = 256;
  std::chrono::milliseconds shutdown_timeout{10'000};
  // A second junction on the same listen addresses is refused (exit 1) unless this is true, in
  // both: SO_REUSEPORT would otherwise let it take part of the traffic unnoticed.
  bool share_listeners = false;
  std::string log_level = "info";
  std::string log_file;  // empty: standard error
  friend bool operator==(const server_config&, const server_config&) = default;
};

void read_config(config_section& s, server_config& out);

}  // namespace junction
