#include "rtmp/server.hpp"

#include "core/byte_stream.hpp"
#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/version.hpp"
#include "rtmp/http_routes.hpp"
#include "rtmp/session.hpp"

#include <boost/asio/ssl/context.hpp>
#include <fmt/format.h>

namespace junction::rtmp {

rtmp_metrics rtmp_metrics::declare(metric_registry& r) {
  rtmp_metrics m{connection_metrics::declare(r, "rtmp"), connection_metrics::declare(r, "rtmps"),
                 {}, {}, {}, {}, {}, {}, {}, {}};
  using k = metric_kind;
  m.publishes = r.add("junction_rtmp_publishes_total", "Streams published over RTMP.", k::counter);
  m.plays = r.add("junction_rtmp_plays_total", "Streams played over RTMP.", k::counter);
  m.flv_plays = r.add("junction_http_flv_plays_total", "Streams played over HTTP-FLV.", k::counter);
  m.refusals = r.add("junction_rtmp_refusals_total",
                     "Connects, publishes and plays refused (policy, hook, name in use).", k::counter);
  m.player_skips = r.add("junction_rtmp_player_skips_total",
                         "Times a slow player's queue overflowed and it skipped to a keyframe.",
                         k::counter);
  m.dropped_frames = r.add("junction_rtmp_dropped_frames_total",
                           "Frames not sent to slow players.", k::counter);
  m.frames_in = r.add("junction_rtmp_frames_in_total", "Audio, video and data frames published.",
                      k::counter);
  m.bytes_relayed = r.add("junction_rtmp_bytes_relayed_total",
                          "Media bytes queued to players (RTMP and HTTP-FLV).", k::counter);
  return m;
}

std::shared_ptr<const rtmp_settings> rtmp_settings::make(const rtmp_config& cfg) {
  auto s = std::make_shared<rtmp_settings>();
  s->config = cfg;
  for (const auto& a : cfg.apps) {
    app_policy p{a, {}, {}};
    for (const auto& r : a.allow_publish) p.publish_from.push_back(*ip_range::parse(r));
    for (const auto& r : a.allow_play) p.play_from.push_back(*ip_range::parse(r));
    s->apps.push_back(std::move(p));
  }
  if (!cfg.tls_listen.empty())
    s->tls = make_tls_server_context("rtmp", cfg.tls_certificate, cfg.tls_private_key, cfg.tls);
  return s;
}

const app_policy* rtmp_settings::find_app(std::string_view name) const {
  const app_policy* wildcard = nullptr;
  for (const auto& a : apps) {
    if (a.config.name == name) return &a;
    if (a.config.name == "*") wildcard = &a;
  }
  return wildcard;
}

server::server(runtime& rt, const rtmp_config& cfg, media::stream_hub& hub)
    : rt_{rt},
      config_{cfg},
      hub_{hub},
      metrics_{rtmp_metrics::declare(rt.registry())},
      incomplete_budget_{std::make_unique<memory_budget>(cfg.incomplete_bytes_total)},
      settings_{rt, rtmp_settings::make(cfg)} {
  add_method("junction.version", [](const command&) -> std::optional<media::amf::value> {
    return media::amf::value::make_string(JUNCTION_VERSION);
  });
}

server::~server() = default;

void server::attach_http(http::server& web) {
  if (config_.http_flv) add_http_flv_route(*this, web);
  add_stream_api(*this, web);
}

void server::listen() {
  auto bind_all = [this](const std::vector<listen_address>& addresses, bool tls) {
    const char* name = tls ? "rtmps" : "rtmp";
    for (const auto& address : addresses) {
      boost::asio::ip::tcp::endpoint bound;
      try {
        bound = listen_tcp(rt_, address, tls ? metrics_.tls : metrics_.plain,
                           [this, tls](shard& home, boost::asio::ip::tcp::socket socket,
                                       connection_ticket ticket) {
                             start_session(*this, home, std::move(socket), std::move(ticket), tls);
                           });
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error(fmt::format("{} listener {}: {}", name, address.to_string(),
                                             e.code().message()));
      }
      rt_.add_listener({name, "tcp", listen_address{bound.address().to_string(), bound.port()}.to_string()});
    }
  };
  bind_all(config_.listen, false);
  bind_all(config_.tls_listen, true);
}

void server::add_method(std::string name, server_method method) {
  methods_[std::move(name)] = std::move(method);
}

void server::add_app_handler(std::string app, app_handler_factory factory) {
  handlers_.insert_or_assign(std::move(app), std::move(factory));
}

const app_handler_factory* server::app_handler_for(std::string_view app_path) const {
  auto it = handlers_.find(app_path.substr(0, app_path.find('/')));
  return it == handlers_.end() ? nullptr : &it->second;
}

const server_method* server::method(std::string_view name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

server_protocol_options server::protocol_options(const rtmp_config& cfg) const {
  server_protocol_options o;
  o.out_chunk_size = static_cast<std::uint32_t>(cfg.chunk_size);
  o.window_ack_size = static_cast<std::uint32_t>(cfg.window_ack_size);
  o.max_streams = static_cast<std::uint32_t>(cfg.max_streams_per_connection);
  o.chunk_limits.max_message_size = static_cast<std::uint32_t>(cfg.max_message_size);
  // Until the session accepts it as a publisher (session.cpp raises it to incomplete_bytes).
  o.chunk_limits.max_buffered_bytes = cfg.incomplete_bytes_before_publish;
  o.chunk_limits.budget = incomplete_budget_.get();
  return o;
}

std::string_view query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace junction::rtmp
