#include "rtmp/config.hpp"

#include <algorithm>

namespace junction {
namespace {

void read_app(config_section& app, rtmp_app_config& a) {
  app.string("name", a.name);
  app.boolean("live", a.live);
  app.boolean("gop_cache", a.gop_cache);
  app.integer("gop_cache_max_bytes", a.gop_cache_max_bytes, 0, std::int64_t{1} << 32);
  app.boolean("takeover", a.takeover);
  app.boolean("idle_streams", a.idle_streams);
  app.boolean("record", a.record);
  app.boolean("low_latency", a.low_latency);
  app.duration("publisher_wait", a.publisher_wait);
  app.ranges("allow_publish", a.allow_publish);
  app.ranges("allow_play", a.allow_play);
  app.string("publish_token", a.publish_token);
  app.string("play_token", a.play_token);
  app.string("on_connect", a.on_connect);
  app.string("on_publish", a.on_publish);
  app.string("on_play", a.on_play);
  app.string("on_done", a.on_done);
  app.duration("hook_timeout", a.hook_timeout);
  app.finish();
  if (a.name.empty() || a.name.find('/') != std::string::npos)
    app.fail_here("rtmp.app.name must be \"*\" or one path segment");
}

}  // namespace

void read_config(config_section& rtmp, rtmp_config& r) {
  rtmp.addresses("listen", r.listen, &r.listen_given);
  rtmp.addresses("tls_listen", r.tls_listen);
  rtmp.string("tls_certificate", r.tls_certificate);
  rtmp.string("tls_private_key", r.tls_private_key);
  read_tls_options(rtmp, "rtmp", r.tls);
  rtmp.integer("chunk_size", r.chunk_size, 128, 16'777'215);
  rtmp.integer("window_ack_size", r.window_ack_size, 1024, 0x7FFFFFFF);
  rtmp.integer("max_message_size", r.max_message_size, 4096, 16'777'215);
  rtmp.integer("max_streams_per_connection", r.max_streams_per_connection, 1, 1024);
  rtmp.integer("incomplete_bytes_before_publish", r.incomplete_bytes_before_publish, 4096, std::int64_t{1} << 32);
  rtmp.integer("incomplete_bytes", r.incomplete_bytes, 4096, std::int64_t{1} << 34);
  rtmp.integer("incomplete_bytes_total", r.incomplete_bytes_total, 0, std::int64_t{1} << 40);
  rtmp.duration("incomplete_message_timeout", r.incomplete_message_timeout);
  rtmp.duration("handshake_timeout", r.handshake_timeout);
  rtmp.duration("ping_interval", r.ping_interval);
  rtmp.duration("idle_timeout", r.idle_timeout);
  rtmp.duration("send_timeout", r.send_timeout);
  rtmp.integer("player_queue_bytes", r.player_queue_bytes, 65536, std::int64_t{1} << 32);
  rtmp.integer("send_buffer", r.send_buffer, 0, std::int64_t{1} << 30);
  if (r.send_buffer != 0 && r.send_buffer < 4096) rtmp.fail("rtmp.send_buffer must be 0 (the kernel's) or at least 4096");
  rtmp.duration("merge_write", r.merge_write);
  rtmp.boolean("http_flv", r.http_flv);
  rtmp.boolean("catch_all", r.catch_all);
  auto apps = rtmp.tables("app");
  if (!apps.empty()) {
    r.apps.clear();
    for (auto& app : apps) read_app(app, r.apps.emplace_back());
  } else if (!r.catch_all) {
    r.apps.clear();  // the built-in "*" was the only one
  }
  const bool has_wildcard = std::any_of(r.apps.begin(), r.apps.end(), [](const auto& a) { return a.name == "*"; });
  if (r.catch_all && !has_wildcard) r.apps.emplace_back();
  rtmp.finish();
  if (r.incomplete_bytes < r.max_message_size)
    rtmp.fail("rtmp.incomplete_bytes must be at least rtmp.max_message_size (or the largest message could never "
              "arrive)");
  if (!r.tls_listen.empty() && (r.tls_certificate.empty() || r.tls_private_key.empty()))
    rtmp.fail("rtmp.tls_listen needs rtmp.tls_certificate and rtmp.tls_private_key");
}

}  // namespace junction
