#pragma once
// The SIP server: a UDP socket per shard on each listen address, the registrar and the request
// handling around the sans-IO protocol core. Registrations of an address-of-record live on one
// shard (its "home", by hash), so every shard finds them by asking that shard; nothing mutable
// is shared between shards.
#include <memory>
#include <string>
#include <vector>

#include "core/shard_local.hpp"
#include "core/sharded.hpp"
#include "sip/config.hpp"
#include "core/metrics.hpp"
#include "sip/digest_auth.hpp"
#include "sip/media_bridge.hpp"
#include "sip/media_relay.hpp"
#include "sip/parser.hpp"

namespace junction {
class runtime;
}
namespace junction::http {
class server;
}
namespace boost::asio::ssl {
class context;
}
namespace junction::users {
class user_directory;
}

namespace junction::sip {

struct sip_metrics {
  connection_metrics tcp, tls;
  metric_id requests_in, responses_in, responses_out, bad_messages, rate_limited, registers, bindings,
      bindings_refused, challenges, auth_md5, auth_sha256, auth_failures, auth_throttled, subscriptions,
      publications, notifies;
  relay_metrics relay;
  static sip_metrics declare(metric_registry& registry);
};

class shard_service;

class server {
 public:
  server(runtime& rt, const sip_config& cfg, users::user_directory& users);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  // Binds every listener on every shard. Throws with the address on failure.
  void listen();
  // /api/v1/sip/registrations on the HTTP server.
  void attach_http(http::server& web);

  runtime& rt() noexcept { return rt_; }
  const sip_config& config() const noexcept { return config_; }
  const parse_limits& limits() const noexcept { return limits_; }
  const sip_metrics& metrics() const noexcept { return metrics_; }
  users::user_directory& users() noexcept { return users_; }
  // What a reload may change (sip.domains, the TLS certificate), one snapshot per shard. The
  // domains' reference holds until this shard takes the next reload: use it synchronously.
  const std::vector<std::string>& domains() const noexcept { return settings_.get().domains; }
  std::shared_ptr<boost::asio::ssl::context> tls() const { return settings_.get().tls; }
  void reload(const sip_config& cfg);
  const auth_settings& auth() const noexcept { return auth_; }
  shard_service& service(unsigned shard) noexcept { return services_->at(shard); }
  // The shard that keeps an AOR's registrations.
  unsigned home_of(std::string_view aor) const noexcept;
  // Where anchored media is relayed (sip.anchor_address, else the first listen host).
  std::string anchor_address() const;
  // Taps anchored calls once answered (to record them); before the shards start.
  void set_relay_tap_factory(const relay_tap_factory& factory);
  // Bridges WebRTC and plain RTP calls (media_bridge.hpp); before the shards start.
  void set_media_bridges(const media_bridge_factory& factory);

 private:
  runtime& rt_;
  sip_config config_;
  parse_limits limits_;
  sip_metrics metrics_;
  users::user_directory& users_;
  auth_settings auth_;
  struct settings {
    std::vector<std::string> domains;
    std::shared_ptr<boost::asio::ssl::context> tls;
  };
  static std::shared_ptr<const settings> make_settings(const sip_config& cfg);
  shard_local<settings> settings_;
  std::unique_ptr<sharded<shard_service>> services_;  // one per shard; made once the server is set up
};

}  // namespace junction::sip
