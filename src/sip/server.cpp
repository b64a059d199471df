#include "sip/server.hpp"

#include "sip/router.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/byte_stream.hpp"
#include "sip/shard_service.hpp"
#include "sip/stream_transport.hpp"
#include "users/nonce.hpp"

namespace junction::sip {

sip_metrics sip_metrics::declare(metric_registry& r) {
  using k = metric_kind;
  sip_metrics m{connection_metrics::declare(r, "sip"), connection_metrics::declare(r, "sips"),
                 {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  m.requests_in = r.add("junction_sip_requests_total", "SIP requests received and parsed.", k::counter);
  m.responses_in = r.add("junction_sip_responses_received_total",
                         "SIP responses received (dropped while no transaction waits for them).",
                         k::counter);
  m.responses_out = r.add("junction_sip_responses_sent_total", "SIP responses sent.", k::counter);
  m.bad_messages = r.add("junction_sip_bad_messages_total",
                         "SIP messages refused by the parser (answered with 400/505/513, or dropped).",
                         k::counter);
  m.rate_limited = r.add("junction_sip_rate_limited_total",
                         "UDP datagrams dropped because their source exceeded sip.udp_rate_limit.",
                         k::counter);
  m.registers = r.add("junction_sip_registers_total", "REGISTER requests handled by the registrar.",
                      k::counter);
  m.bindings = r.add("junction_sip_bindings", "Registered contacts (bindings) held.", k::gauge);
  m.challenges = r.add("junction_sip_auth_challenges_total",
                       "401 challenges sent (first contact, stale nonce or failed credentials).",
                       k::counter);
  // Which algorithm clients answer with: when MD5 may be turned off (sip.digest_algorithms).
  const char* auth_help = "Requests authenticated by digest, by the algorithm the client answered with.";
  m.auth_md5 = r.add("junction_sip_auth_successes_total", auth_help, k::counter, "algorithm=\"MD5\"");
  m.auth_sha256 = r.add("junction_sip_auth_successes_total", auth_help, k::counter, "algorithm=\"SHA-256\"");
  m.auth_failures = r.add("junction_sip_auth_failures_total",
                          "Requests whose digest credentials were wrong, unknown or not allowed.",
                          k::counter);
  m.bindings_refused = r.add("junction_sip_bindings_refused_total",
                             "REGISTERs refused (503) because their AOR has sip.max_bindings_per_aor bindings.",
                             k::counter);
  m.auth_throttled = r.add("junction_sip_auth_throttled_total",
                           "SIP requests refused (403, Retry-After) while their source or user was locked "
                           "out after repeated failed logins.",
                           k::counter);
  m.subscriptions = r.add("junction_sip_presence_subscriptions",
                          "Presence subscriptions held (active and pending).", k::gauge);
  m.publications = r.add("junction_sip_presence_publications", "Presence publications (PUBLISH) held.",
                         k::gauge);
  m.notifies = r.add("junction_sip_presence_notifies_total", "Presence NOTIFY requests sent.", k::counter);
  m.relay = relay_metrics::declare(r);
  return m;
}

server::server(runtime& rt, const sip_config& cfg, users::user_directory& users)
    : rt_(rt), config_(cfg), metrics_(sip_metrics::declare(rt.registry())), users_(users),
      settings_(rt, make_settings(cfg)) {
  // One secret for every shard: a nonce issued by one shard verifies on any other.
  auth_.nonce_secret = users::make_nonce_secret();
  auth_.nonce_lifetime = std::chrono::duration_cast<std::chrono::seconds>(cfg.nonce_lifetime);
  auth_.algorithms.clear();
  for (const auto& name : cfg.digest_algorithms) auth_.algorithms.push_back(*users::parse_algorithm(name));
  auth_.md5_only_agents = cfg.md5_only_user_agents;
  limits_.max_message = cfg.max_message_size;
  limits_.max_headers = cfg.max_header_fields;
  // One header line may take at most half a message (8 KiB at most): room for long Contact or
  // Route lists, while a single runaway line is refused with a clear 400.
  limits_.max_line = std::min<std::size_t>(8192, cfg.max_message_size / 2);
  services_ = std::make_unique<sharded<shard_service>>(rt, *this);
}

server::~server() = default;

std::shared_ptr<const server::settings> server::make_settings(const sip_config& cfg) {
  auto s = std::make_shared<settings>();
  s->domains = cfg.domains;
  if (!cfg.tls_listen.empty())
    s->tls = make_tls_server_context("sip", cfg.tls_certificate, cfg.tls_private_key, cfg.tls);
  return s;
}

void server::reload(const sip_config& cfg) { settings_.publish(make_settings(cfg)); }

std::string server::anchor_address() const {
  if (!config_.anchor_address.empty()) return config_.anchor_address;
  if (config_.listen.empty() || config_.listen.front().host == "0.0.0.0" || config_.listen.front().host == "::")
    return "127.0.0.1";
  return config_.listen.front().host;
}

unsigned server::home_of(std::string_view aor) const noexcept {
  return home_shard(aor, static_cast<unsigned>(rt_.size()));
}

void server::listen() {
  auto fail = [](std::string_view what, const listen_address& a, const boost::system::system_error& e) {
    return std::runtime_error(fmt::format("sip {} listener {}: {}", what, a.to_string(), e.code().message()));
  };
  for (std::size_t index = 0; index < config_.listen.size(); ++index) {
    listen_address address = config_.listen[index];
    // UDP and TCP share one port number; "any port" (0) becomes one free for both.
    std::optional<dual_port_reservation> reserved;
    try {
      if (address.port == 0) {
        reserved.emplace(rt_.at(0).context(), address.host);
        address.port = reserved->port();
      }
      listen_udp(rt_, address, [this](shard& home, boost::asio::ip::udp::socket socket) {
        services_->at(home.index()).add_socket(std::move(socket));
      });
    } catch (const boost::system::system_error& e) {
      throw fail("udp", address, e);
    }
    rt_.add_listener({"sip", "udp", address.to_string()});
    try {
      listen_tcp(rt_, address, metrics_.tcp,
                 [this, index](shard& home, boost::asio::ip::tcp::socket socket, connection_ticket ticket) {
                   start_stream_session(*this, home, std::move(socket), std::move(ticket), false, index);
                 });
    } catch (const boost::system::system_error& e) {
      throw fail("tcp", address, e);
    }
    rt_.add_listener({"sip", "tcp", address.to_string()});
  }
  for (const auto& address : config_.tls_listen) {
    boost::asio::ip::tcp::endpoint bound;
    try {
      bound = listen_tcp(rt_, address, metrics_.tls,
                         [this](shard& home, boost::asio::ip::tcp::socket socket, connection_ticket ticket) {
                           start_stream_session(*this, home, std::move(socket), std::move(ticket), true, 0);
                         });
    } catch (const boost::system::system_error& e) {
      throw fail("tls", address, e);
    }
    rt_.add_listener({"sips", "tcp", listen_address{bound.address().to_string(), bound.port()}.to_string()});
    // What Record-Routes facing a TLS flow name (the shards are not running yet: set directly).
    const std::string host = !bound.address().is_unspecified() ? bound.address().to_string()
                             : config_.domains.empty()          ? std::string("127.0.0.1")
                                                                : config_.domains.front();
    for (unsigned i = 0; i < services_->size(); ++i) services_->at(i).add_tls_address(host, bound.port());
  }
  services_->invoke_on_all([](shard_service& service) { service.start(); });
}

void server::set_relay_tap_factory(const relay_tap_factory& factory) {
  for (unsigned i = 0; i < services_->size(); ++i)
    if (auto* relays = services_->at(i).relays()) relays->set_tap_factory(factory);
}

void server::set_media_bridges(const media_bridge_factory& factory) {
  for (unsigned i = 0; i < services_->size(); ++i) services_->at(i).set_bridges(factory(rt_.at(i)));
}

}  // namespace junction::sip
