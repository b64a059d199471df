#pragma once
// [http]: listeners, TLS, static files, limits and timeouts, admin token, WebSocket.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"
#include "core/tls_options.hpp"
#include "core/endpoint.hpp"

namespace junction {

struct http_config {
  std::vector<listen_address> listen{{"127.0.0.1", 8080}};
  std::vector<listen_address> tls_listen;
  std::string tls_certificate;
  std::string tls_private_key;
  tls_options tls;  // tls_min_version, tls_max_version, tls_ciphers, tls_ciphersuites
  std::string web_root = "conf/www";
  std::string index = "index.html";
  std::size_t header_limit = 8192;
  std::size_t body_limit = 1 << 20;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::string access_log = "-";  // "-": standard output; empty: off
  std::string admin_token;       // empty: admin endpoints answer only on loopback
  std::size_t file_cache_max_file = 256 * 1024;
  std::size_t file_cache_max_bytes = 32 << 20;  // per shard
  std::size_t websocket_message_limit = 1 << 20;
  bool websocket_echo = false;
  bool listen_given = false;  // set when the file names `listen` (so --listen-all leaves it)
  friend bool operator==(const http_config&, const http_config&) = default;
};

void read_config(config_section& s, http_config& out);

}  // namespace junction
