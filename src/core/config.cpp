#include "core/config.hpp"

#include "core/duration.hpp"
#include "core/ip_range.hpp"
#include "core/log.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <fmt/format.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace junction {
namespace {

std::string where(const std::string& file, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", file, region.begin.line, region.begin.column);
}

// Reads one section of the file against the keys Junction knows: every read names the key, its
// type and its allowed range, and whatever the file holds that nobody read is an unknown key.
class section_reader {
 public:
  section_reader(const toml::table& root, std::string file, std::string name,
                 std::vector<std::string>* defaulted)
      : file_{std::move(file)}, name_{std::move(name)}, defaulted_{defaulted} {
    if (auto* node = root.get(name_)) {
      table_ = node->as_table();
      if (!table_) fail(*node, "must be a table ([" + name_ + "])");
    }
  }
  // A table inside a section, such as one [[rtmp.app]] entry.
  section_reader(const toml::table* table, std::string file, std::string name,
                 std::vector<std::string>* defaulted)
      : file_{std::move(file)}, name_{std::move(name)}, defaulted_{defaulted}, table_{table} {}

  // The tables of an array of tables ([[section.key]]); nullptr when absent.
  const toml::array* tables(const char* key) {
    read_.insert(key);
    const toml::node* node = table_ ? table_->get(key) : nullptr;
    if (!node) return nullptr;
    auto* array = node->as_array();
    if (!array || !array->is_array_of_tables())
      fail(*node, fmt::format("{}.{}: expected tables ([[{}.{}]])", name_, key, name_, key));
    return array;
  }
  void strings(const char* key, std::vector<std::string>& out) {
    auto* node = find(key);
    if (!node) return;
    auto* array = node->as_array();
    if (!array) fail(*node, fmt::format("{}.{}: expected a list of strings", name_, key));
    out.clear();
    for (auto& item : *array) {
      if (!item.is_string()) fail(item, fmt::format("{}.{}: expected a list of strings", name_, key));
      out.push_back(*item.value<std::string>());
    }
  }
  void ranges(const char* key, std::vector<std::string>& out) {
    strings(key, out);
    if (auto* array = table_ && table_->get(key) ? table_->get(key)->as_array() : nullptr)
      for (std::size_t i = 0; i < out.size(); ++i)
        if (!ip_range::parse(out[i]))
          fail(*array->get(i), fmt::format("{}.{}: '{}' is not an address or CIDR range", name_,
                                           key, out[i]));
  }

  void integer(const char* key, std::size_t& out, std::int64_t min, std::int64_t max) {
    if (auto* node = find(key)) {
      auto v = node->value<std::int64_t>();
      if (!node->is_integer() || !v || *v < min || *v > max)
        fail(*node, fmt::format("{}.{}: expected an integer from {} to {}", name_, key, min, max));
      out = static_cast<std::size_t>(*v);
    }
  }
  void integer(const char* key, unsigned& out, std::int64_t min, std::int64_t max) {
    std::size_t v = out;
    integer(key, v, min, max);
    out = static_cast<unsigned>(v);
  }
  void boolean(const char* key, bool& out) {
    if (auto* node = find(key)) {
      if (!node->is_boolean()) fail(*node, fmt::format("{}.{}: expected true or false", name_, key));
      out = *node->value<bool>();
    }
  }
  void string(const char* key, std::string& out) {
    if (auto* node = find(key)) {
      if (!node->is_string()) fail(*node, fmt::format("{}.{}: expected a string", name_, key));
      out = *node->value<std::string>();
    }
  }
  void duration(const char* key, std::chrono::milliseconds& out) {
    if (auto* node = find(key)) {
      auto text = node->value<std::string>();
      auto parsed = text ? parse_duration(*text) : std::nullopt;
      if (!node->is_string() || !parsed)
        fail(*node, fmt::format("{}.{}: expected a duration such as \"500ms\", \"10s\" or \"5m\"",
                                name_, key));
      out = *parsed;
    }
  }
  void addresses(const char* key, std::vector<listen_address>& out, bool* given = nullptr) {
    auto* node = find(key);
    if (!node) return;
    auto* array = node->as_array();
    if (!array) fail(*node, fmt::format("{}.{}: expected a list of \"host:port\" strings", name_, key));
    out.clear();
    for (auto& item : *array) {
      auto text = item.value<std::string>();
      std::string why = "expected a \"host:port\" string";
      auto address = text ? listen_address::parse(*text, &why) : std::nullopt;
      if (!item.is_string() || !address) fail(item, fmt::format("{}.{}: {}", name_, key, why));
      out.push_back(*address);
    }
    if (given) *given = true;
  }
  void level(const char* key, std::string& out) {
    string(key, out);
    log::level ignored;
    if (table_ && table_->get(key) && !log::parse_level(out, ignored))
      fail(*table_->get(key), fmt::format("{}.{}: expected one of trace, debug, info, warn, "
                                          "error, critical, off", name_, key));
  }

  // Unknown keys are errors, not warnings: a misspelt key silently ignored is a setting that
  // does not take effect.
  void finish() {
    if (!table_) return;
    for (auto& [key, node] : *table_)
      if (!read_.contains(std::string{key.str()}))
        fail(node, fmt::format("unknown key '{}.{}'", name_, key.str()));
  }

 private:
  const toml::node* find(const char* key) {
    read_.insert(key);
    const toml::node* node = table_ ? table_->get(key) : nullptr;
    if (!node && defaulted_) defaulted_->push_back(name_ + "." + key);
    return node;
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& message) {
    throw config_error(where(file_, node.source()) + ": " + message);
  }

  std::string file_, name_;
  std::vector<std::string>* defaulted_;
  const toml::table* table_ = nullptr;
  std::set<std::string> read_;
};

void make_relative_to(const std::filesystem::path& base, std::string& path) {
  if (path.empty() || path == "-" || std::filesystem::path{path}.is_absolute()) return;
  path = (base / path).lexically_normal().string();
}

config from_table(const toml::table& root, const std::string& name,
                  std::vector<std::string>* defaulted) {
  config cfg;
  cfg.source = name;
  static const std::set<std::string> sections{"server", "http", "rtmp", "sip", "users", "gateway", "recording"};
  for (auto& [key, node] : root)
    if (!sections.contains(std::string{key.str()}))
      throw config_error(where(name, node.source()) + ": unknown section '" +
                         std::string{key.str()} + "'");

  section_reader server{root, name, "server", defaulted};
  auto& s = cfg.server;
  server.integer("shards", s.shards, 0, 1024);
  server.boolean("pin_cpus", s.pin_cpus);
  server.boolean("listen_all", s.listen_all);
  server.integer("max_connections", s.max_connections, 1, 10'000'000);
  server.integer("max_connections_per_source", s.max_connections_per_source, 0, 10'000'000);
  server.duration("shutdown_timeout", s.shutdown_timeout);
  server.level("log_level", s.log_level);
  server.string("log_file", s.log_file);
  server.finish();

  section_reader http{root, name, "http", defaulted};
  auto& h = cfg.http;
  http.addresses("listen", h.listen, &h.listen_given);
  http.addresses("tls_listen", h.tls_listen);
  http.string("tls_certificate", h.tls_certificate);
  http.string("tls_private_key", h.tls_private_key);
  http.string("web_root", h.web_root);
  http.string("index", h.index);
  http.integer("header_limit", h.header_limit, 512, 1 << 20);
  http.integer("body_limit", h.body_limit, 0, std::int64_t{1} << 32);
  http.duration("header_timeout", h.header_timeout);
  http.duration("idle_timeout", h.idle_timeout);
  http.string("access_log", h.access_log);
  http.string("admin_token", h.admin_token);
  http.integer("file_cache_max_file", h.file_cache_max_file, 0, 64 << 20);
  http.integer("file_cache_max_bytes", h.file_cache_max_bytes, 0, std::int64_t{1} << 34);
  http.integer("websocket_message_limit", h.websocket_message_limit, 1, 64 << 20);
  http.boolean("websocket_echo", h.websocket_echo);
  http.finish();

  if (!h.tls_listen.empty() && (h.tls_certificate.empty() || h.tls_private_key.empty()))
    throw config_error(name + ": http.tls_listen needs http.tls_certificate and "
                              "http.tls_private_key");

  section_reader rtmp{root, name, "rtmp", defaulted};
  auto& r = cfg.rtmp;
  rtmp.addresses("listen", r.listen, &r.listen_given);
  rtmp.addresses("tls_listen", r.tls_listen);
  rtmp.string("tls_certificate", r.tls_certificate);
  rtmp.string("tls_private_key", r.tls_private_key);
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
  rtmp.duration("merge_write", r.merge_write);
  rtmp.boolean("http_flv", r.http_flv);
  if (auto* apps = rtmp.tables("app")) {
    r.apps.clear();
    for (auto& node : *apps) {
      section_reader app{node.as_table(), name, "rtmp.app", defaulted};
      auto& a = r.apps.emplace_back();
      app.string("name", a.name);
      app.boolean("live", a.live);
      app.boolean("gop_cache", a.gop_cache);
      app.integer("gop_cache_max_bytes", a.gop_cache_max_bytes, 0, std::int64_t{1} << 32);
      app.boolean("takeover", a.takeover);
      app.boolean("idle_streams", a.idle_streams);
      app.boolean("record", a.record);
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
        throw config_error(where(name, node.source()) + ": rtmp.app.name must be \"*\" or one path segment");
    }
  }
  rtmp.finish();
  if (r.incomplete_bytes < r.max_message_size)
    throw config_error(name + ": rtmp.incomplete_bytes must be at least rtmp.max_message_size "
                              "(or the largest message could never arrive)");
  if (!r.tls_listen.empty() && (r.tls_certificate.empty() || r.tls_private_key.empty()))
    throw config_error(name + ": rtmp.tls_listen needs rtmp.tls_certificate and "
                              "rtmp.tls_private_key");

  section_reader sip{root, name, "sip", defaulted};
  auto& sp = cfg.sip;
  sip.addresses("listen", sp.listen, &sp.listen_given);
  sip.addresses("tls_listen", sp.tls_listen);
  sip.string("tls_certificate", sp.tls_certificate);
  sip.string("tls_private_key", sp.tls_private_key);
  sip.boolean("websocket", sp.websocket);
  sip.duration("tcp_idle_timeout", sp.tcp_idle_timeout);
  sip.duration("tcp_message_timeout", sp.tcp_message_timeout);
  sip.duration("tcp_first_message_timeout", sp.tcp_first_message_timeout);
  sip.strings("domains", sp.domains);
  sip.integer("max_message_size", sp.max_message_size, 1024, 65535);
  sip.integer("max_header_fields", sp.max_header_fields, 16, 1024);
  sip.integer("min_expires", sp.min_expires, 0, 86400);
  sip.integer("max_expires", sp.max_expires, 1, 86400 * 7);
  sip.integer("default_expires", sp.default_expires, 1, 86400 * 7);
  sip.integer("max_bindings_per_aor", sp.max_bindings_per_aor, 1, 10'000);
  sip.integer("udp_rate_limit", sp.udp_rate_limit, 0, 1'000'000);
  sip.boolean("authenticate", sp.authenticate);
  sip.duration("nonce_lifetime", sp.nonce_lifetime);
  sip.integer("auth_failures_allowed", sp.auth_failures_allowed, 1, 1'000'000);
  std::chrono::milliseconds lockout = sp.auth_lockout_max;
  sip.duration("auth_lockout_max", lockout);
  sp.auth_lockout_max = std::chrono::duration_cast<std::chrono::seconds>(lockout);
  sip.strings("digest_algorithms", sp.digest_algorithms);
  sip.string("presence_authorization", sp.presence_authorization);
  sip.string("outbound", sp.outbound);
  sip.boolean("anchor_media", sp.anchor_media);
  sip.string("anchor_address", sp.anchor_address);
  sip.duration("media_timeout", sp.media_timeout);
  sip.duration("t1", sp.t1);
  sip.duration("t2", sp.t2);
  sip.duration("t4", sp.t4);
  sip.finish();
  if (sp.t1.count() < 10 || sp.t2 < sp.t1 || sp.t4 < sp.t1)
    throw config_error(name + ": sip.t1 must be at least 10ms, and t2 and t4 at least t1");
  if (sp.digest_algorithms.empty()) throw config_error(name + ": sip.digest_algorithms is empty");
  if (sp.presence_authorization != "contacts" && sp.presence_authorization != "open")
    throw config_error(name + ": sip.presence_authorization must be \"contacts\" or \"open\"");
  if (sp.outbound != "refuse" && sp.outbound != "authenticated")
    throw config_error(name + ": sip.outbound must be \"refuse\" or \"authenticated\"");
  for (const auto& a : sp.digest_algorithms)
    if (a != "SHA-256" && a != "MD5")
      throw config_error(name + ": sip.digest_algorithms: '" + a + "' is neither \"SHA-256\" nor \"MD5\"");
  if (sp.nonce_lifetime < std::chrono::seconds(10))
    throw config_error(name + ": sip.nonce_lifetime must be at least 10s");

  section_reader users{root, name, "users", defaulted};
  users.string("database", cfg.users.database);
  users.finish();

  section_reader rec{root, name, "recording", defaulted};
  auto& rc = cfg.recording;
  rec.string("directory", rc.directory);
  rec.string("calls", rc.calls);
  rec.strings("users", rc.users);
  rec.string("vod_app", rc.vod_app);
  rec.finish();
  if (rc.directory.empty()) throw config_error(name + ": recording.directory must name a folder");
  if (rc.calls != "off" && rc.calls != "all" && rc.calls != "users")
    throw config_error(name + ": recording.calls must be \"off\", \"all\" or \"users\"");

  section_reader gw{root, name, "gateway", defaulted};
  auto& g = cfg.gateway;
  gw.boolean("enabled", g.enabled);
  gw.string("app", g.app);
  gw.string("media_address", g.media_address);
  gw.integer("register_expires", g.register_expires, 60, 86400);
  gw.duration("ring_timeout", g.ring_timeout);
  gw.duration("rtp_timeout", g.rtp_timeout);
  gw.integer("transcode_threads", g.transcode_threads, 0, 256);
  gw.string("srtp", g.srtp);
  gw.finish();
  if (g.app.empty() || g.app.find('/') != std::string::npos)
    throw config_error(name + ": gateway.app must be one path segment");
  if (g.rtp_timeout < std::chrono::seconds(1)) throw config_error(name + ": gateway.rtp_timeout must be at least 1s");
  if (g.srtp != "off" && g.srtp != "answer" && g.srtp != "offer" && g.srtp != "required")
    throw config_error(name + ": gateway.srtp must be \"off\", \"answer\", \"offer\" or \"required\"");
  if (cfg.users.database.empty()) throw config_error(name + ": users.database must name a file");
  if (!sp.tls_listen.empty() && (sp.tls_certificate.empty() || sp.tls_private_key.empty()))
    throw config_error(name + ": sip.tls_listen needs sip.tls_certificate and sip.tls_private_key");
  if (sp.min_expires > sp.max_expires)
    throw config_error(name + ": sip.min_expires is above sip.max_expires");
  return cfg;
}

config parse(std::string_view text, const std::string& name, std::vector<std::string>* defaulted) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw config_error(where(name, e.source()) + ": " + std::string{e.description()});
  }
  return from_table(root, name, defaulted);
}

}  // namespace

config config::load_string(std::string_view toml, const std::string& name,
                           std::vector<std::string>* defaulted) {
  auto cfg = parse(toml, name, defaulted);
  if (cfg.server.listen_all) cfg.apply_listen_all();
  return cfg;
}

config config::load_file(const std::string& path, std::vector<std::string>* defaulted) {
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw config_error(path + ": cannot open: " + std::strerror(errno));
    char chunk[4096];
    while (auto n = std::fread(chunk, 1, sizeof chunk, f)) text.append(chunk, n);
    std::fclose(f);
  }
  auto cfg = load_string(text, path, defaulted);
  auto base = std::filesystem::path{path}.parent_path();
  for (auto* p : {&cfg.server.log_file, &cfg.http.web_root, &cfg.http.tls_certificate,
                  &cfg.http.tls_private_key, &cfg.http.access_log, &cfg.rtmp.tls_certificate,
                  &cfg.rtmp.tls_private_key, &cfg.sip.tls_certificate, &cfg.sip.tls_private_key,
                  &cfg.users.database, &cfg.recording.directory})
    make_relative_to(base, *p);
  return cfg;
}

void config::apply_listen_all() {
  server.listen_all = true;
  if (!http.listen_given)
    for (auto& a : http.listen)
      if (a.host == "127.0.0.1") a.host = "0.0.0.0";
  if (!rtmp.listen_given)
    for (auto& a : rtmp.listen)
      if (a.host == "127.0.0.1") a.host = "0.0.0.0";
  if (!sip.listen_given)
    for (auto& a : sip.listen)
      if (a.host == "127.0.0.1") a.host = "0.0.0.0";
}

}  // namespace junction
