#pragma once
// Junction's configuration: one TOML file, every key documented in conf/junction.toml with its
// default. Without a file, the defaults are a complete, working set-up on localhost.
#include "core/endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace junction {

// "file:line:column: message" for the first problem found.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct server_config {
  unsigned shards = 0;  // 0: one per CPU
  bool pin_cpus = true;
  bool listen_all = false;  // default listeners bind every address instead of loopback
  std::size_t max_connections = 10000;
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::string log_level = "info";
  std::string log_file;  // empty: standard error
};

struct http_config {
  std::vector<listen_address> listen{{"127.0.0.1", 8080}};
  std::vector<listen_address> tls_listen;
  std::string tls_certificate;
  std::string tls_private_key;
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
};

struct config {
  server_config server;
  http_config http;
  std::string source = "(built-in defaults)";

  // Reads and validates a TOML file; relative paths in it are taken from the file's folder.
  // Throws config_error. `defaulted`, when given, receives every key the file left out.
  static config load_file(const std::string& path, std::vector<std::string>* defaulted = nullptr);
  static config load_string(std::string_view toml, const std::string& name,
                            std::vector<std::string>* defaulted = nullptr);

  // Binds the listeners the file did not name on every address instead of loopback.
  void apply_listen_all();
};

}  // namespace junction
