#pragma once
// The HTTP server: plain and TLS listeners on every shard, the router with the built-in
// endpoints, static files, and the WebSocket routes other protocols register.
#include "http/config.hpp"
#include "core/shard_local.hpp"
#include "core/metrics.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"
#include "http/websocket.hpp"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <memory>
#include <variant>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace junction {
class runtime;
}

namespace junction::http {

class file_cache;
class request_context;

struct http_metrics {
  connection_metrics plain, tls;
  std::array<metric_id, 6> responses;  // [1] 1xx ... [5] 5xx
  metric_id auth_failures, websocket_sessions;
  static http_metrics declare(metric_registry& registry);
};

// What a reload may change (http.admin_token, the TLS certificate), one snapshot per shard.
struct http_settings {
  std::string admin_token;
  std::shared_ptr<boost::asio::ssl::context> tls;  // with http.tls_listen
  // Throws config_error (a certificate that cannot be loaded).
  static std::shared_ptr<const http_settings> make(const http_config& cfg);
};

class server {
 public:
  server(runtime& rt, const http_config& cfg);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  runtime& rt() noexcept { return rt_; }
  const http_config& config() const noexcept { return config_; }
  const http_metrics& metrics() const noexcept { return metrics_; }
  router& routes() noexcept { return routes_; }
  websocket_routes& websockets() noexcept { return websockets_; }
  // This shard's settings (hold the pointer while using what it holds).
  const std::shared_ptr<const http_settings>& settings() const noexcept { return settings_.share(); }
  // A reload of admin_token and the TLS certificate; other keys need a restart.
  void reload(const http_config& cfg) { settings_.publish(http_settings::make(cfg)); }
  file_cache& cache(unsigned shard) noexcept { return *caches_[shard]; }

  // Binds every configured listener on every shard. Throws with the address on failure.
  void listen();
  // Chooses the handler for a request (admin check, 405, static files, 404) and runs it when
  // it is synchronous; an asynchronous one is returned for the session to await, so that the
  // common case costs no coroutine frame.
  std::variant<reply, const async_handler*> route(request_context& ctx);

 private:
  runtime& rt_;
  http_config config_;
  http_metrics metrics_;
  router routes_;
  websocket_routes websockets_;
  static_files files_;
  shard_local<http_settings> settings_;
  std::vector<std::unique_ptr<file_cache>> caches_;
};

}  // namespace junction::http
