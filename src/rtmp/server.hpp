#pragma once
// The RTMP server: listeners (RTMP and RTMPS) on every shard, the applications and their
// policies, server methods callable with NetConnection.call, and the HTTP side (HTTP-FLV,
// /api/v1/streams). Sessions live in session.cpp; streams live in the media hub.
#include "rtmp/config.hpp"
#include "core/shard_local.hpp"
#include "core/ip_range.hpp"
#include "core/metrics.hpp"
#include "rtmp/app_handler.hpp"
#include "rtmp/commands.hpp"
#include "core/memory_budget.hpp"
#include "rtmp/server_protocol.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio::ssl {
class context;
}
namespace junction {
class runtime;
class shard;
class worker_pool;
}
namespace junction::media {
class stream_hub;
}
namespace junction::http {
class server;
}

namespace junction::rtmp {

struct rtmp_metrics {
  connection_metrics plain, tls;
  metric_id publishes, plays, flv_plays, refusals, player_skips, dropped_frames, frames_in,
      bytes_relayed;
  static rtmp_metrics declare(metric_registry& registry);
};

// An application's settings with its allow lists parsed.
struct app_policy {
  rtmp_app_config config;
  std::vector<ip_range> publish_from, play_from;
};

// What a reload may change (rtmp.apps, limits, timeouts, the TLS certificate), as one immutable
// snapshot per shard (core/shard_local.hpp). A connection keeps the snapshot it started with.
struct rtmp_settings {
  rtmp_config config;
  std::vector<app_policy> apps;
  std::shared_ptr<boost::asio::ssl::context> tls;  // with rtmp.tls_listen

  // Throws config_error (a certificate that cannot be loaded).
  static std::shared_ptr<const rtmp_settings> make(const rtmp_config& cfg);
  // The application's policy: its own entry, else "*", else nullptr (unknown application).
  const app_policy* find_app(std::string_view name) const;
};

// Records a stream while it lives (made by the recording service): destroying it ends the
// recording.
struct stream_recording {
  virtual ~stream_recording() = default;
};
using recorder_factory = std::function<std::unique_ptr<stream_recording>(
    junction::shard& home, const std::string& key, std::string_view app, std::string_view name, bool append)>;

// A method clients may call with NetConnection.call: returns the _result value, or nullopt for
// an _error (NetConnection.Call.Failed).
using server_method = std::function<std::optional<media::amf::value>(const command&)>;

class server {
 public:
  server(runtime& rt, const rtmp_config& cfg, media::stream_hub& hub);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  // Binds every configured listener on every shard. Throws with the address on failure.
  void listen();
  // HTTP-FLV (when rtmp.http_flv) and /api/v1/streams on the HTTP server.
  void attach_http(http::server& web);

  // The settings new connections on this shard get (hold the pointer while using what it holds).
  const std::shared_ptr<const rtmp_settings>& settings() const noexcept { return settings_.share(); }
  // A reload: the settings new connections get from now on. Keys that need a restart
  // (listeners, http_flv, incomplete_bytes_total) are the caller's to refuse.
  void reload(const rtmp_config& cfg) { settings_.publish(rtmp_settings::make(cfg)); }
  void add_method(std::string name, server_method method);
  // An application with behaviour of its own: connections to "<app>" or "<app>/..." get a
  // handler from `factory`.
  void add_app_handler(std::string app, app_handler_factory factory);
  const app_handler_factory* app_handler_for(std::string_view app_path) const;
  void set_recorder(recorder_factory factory) { recorder_ = std::move(factory); }
  // Recorded streams played on demand: the file a play of `name` in `app` reads (an empty path
  // when `app` plays recordings but has none by that name), and the token a player must present
  // ("token=..." in the stream's or the tcUrl's query) unless the application authorizes plays
  // itself (play_token, on_play, allow_play); an empty token: loopback players only. Nothing
  // for other applications.
  struct vod_target {
    std::string path;
    std::string token;
  };
  using vod_resolver = std::function<std::optional<vod_target>(std::string_view app, std::string_view name)>;
  void set_vod(vod_resolver resolver) { vod_ = std::move(resolver); }
  // Where files are read (VOD): never on a shard.
  void set_workers(worker_pool& workers) { workers_ = &workers; }
  worker_pool* workers() const noexcept { return workers_; }
  std::optional<vod_target> vod_path(std::string_view app, std::string_view name) const {
    return vod_ ? vod_(app, name) : std::nullopt;
  }
  const recorder_factory& recorder() const noexcept { return recorder_; }
  const server_method* method(std::string_view name) const;

  runtime& rt() noexcept { return rt_; }
  // The settings at start (listeners); per-connection values come from settings().
  const rtmp_config& config() const noexcept { return config_; }
  media::stream_hub& hub() noexcept { return hub_; }
  const rtmp_metrics& metrics() const noexcept { return metrics_; }
  server_protocol_options protocol_options(const rtmp_config& cfg) const;

 private:
  runtime& rt_;
  rtmp_config config_;
  media::stream_hub& hub_;
  rtmp_metrics metrics_;
  // Bytes held by every connection's incomplete messages (rtmp.incomplete_bytes_total).
  std::unique_ptr<memory_budget> incomplete_budget_;
  shard_local<rtmp_settings> settings_;
  std::map<std::string, server_method, std::less<>> methods_;
  std::map<std::string, app_handler_factory, std::less<>> handlers_;
  recorder_factory recorder_;
  vod_resolver vod_;
  worker_pool* workers_ = nullptr;
};

// The stream key in the hub: "<app>/<name>".
inline std::string stream_key(std::string_view app, std::string_view name) {
  std::string key{app};
  key += '/';
  key += name;
  return key;
}

// The value of `token=` in a query string ("a=1&token=x"), or empty.
std::string_view query_value(std::string_view query, std::string_view key);

}  // namespace junction::rtmp
