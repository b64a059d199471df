#include "recording/service.hpp"

#include "core/worker_pool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "core/log.hpp"
#include "core/utc_time.hpp"
#include "core/shard.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "recording/recording_file.hpp"
#include "recording/stream_recorder.hpp"
#include "rtmp/server.hpp"
#include "users/hmac.hpp"

namespace junction::recording {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using sys_clock = std::chrono::system_clock;

std::string iso_time(sys_clock::time_point t) {
  const std::time_t secs = sys_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t epoch_ms(sys_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

sys_clock::time_point from_epoch_ms(std::int64_t ms) { return sys_clock::time_point{std::chrono::milliseconds(ms)}; }

json::object to_json(const recording_info& r) {
  json::object o{{"id", r.id},
                 {"kind", r.kind},
                 {"started", iso_time(r.started)},
                 {"started_ms", epoch_ms(r.started)},
                 {"complete", r.ended.has_value()},
                 {"duration_seconds", r.duration_ms / 1000.0},
                 {"size_bytes", r.size},
                 {"url", "/recordings/" + r.id + ".flv"}};
  if (r.ended) {
    o["ended"] = iso_time(*r.ended);
    o["ended_ms"] = epoch_ms(*r.ended);
  }
  if (r.kind == "call") {
    o["call_id"] = r.call_id;
    o["line"] = r.line;
    o["from"] = r.from;
    o["to"] = r.to;
  } else {
    o["stream"] = r.stream;
  }
  return o;
}

std::string text_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string{v->as_string()} : std::string{};
}

std::int64_t number_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return 0;
}

}  // namespace

std::string safe_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == 120) break;
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  }
  // Never a hidden file, never "." or "..".
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

recording_metrics recording_metrics::declare(metric_registry& r) {
  using k = metric_kind;
  recording_metrics m;
  m.active = r.add("junction_recordings_active", "Recordings being written.", k::gauge);
  m.started = r.add("junction_recordings_started_total", "Recordings started (calls and streams).", k::counter);
  return m;
}

namespace {

std::string hex_of(const unsigned char* bytes, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", bytes[i]);
  return out;
}

// The secret that makes stream recording ids unguessable, kept in the folder so ids stay the
// same across restarts (append finds its file). Made on first start, readable by us alone.
std::string load_id_secret(const std::string& directory) {
  const std::string path = directory + "/.id-secret";
  std::string secret(32, '\0');
  if (int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    auto n = ::read(fd, secret.data(), secret.size());
    ::close(fd);
    if (n == static_cast<ssize_t>(secret.size())) return secret;
  }
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  if (int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); fd >= 0) {
    if (::write(fd, secret.data(), secret.size()) != static_cast<ssize_t>(secret.size()))
      log::warn("recording: cannot write {}: stream recording ids change at restart", path);
    ::close(fd);
  } else {
    log::warn("recording: cannot write {}: stream recording ids change at restart", path);
  }
  return secret;
}

}  // namespace

service::service(runtime& rt, metric_registry& registry, const recording_config& cfg, std::string admin_token,
                 worker_pool& workers)
    : cfg_(cfg), rules_(rt, std::make_shared<const rules>(rules{cfg.calls, cfg.users, std::move(admin_token)})),
      workers_(workers),
      metrics_(recording_metrics::declare(registry)) {
  std::error_code ec;
  if (std::filesystem::create_directories(cfg_.directory, ec))
    ::chmod(cfg_.directory.c_str(), 0700);  // a folder we made is ours alone, as its files
  if (ec) log::warn("recording: cannot create {}: {}", cfg_.directory, ec.message());
  id_secret_ = load_id_secret(cfg_.directory);
}

bool service::records_calls_of(std::string_view line) const {
  const rules& r = rules_.get();
  if (r.calls == "all") return true;
  if (r.calls != "users") return false;
  return std::any_of(r.users.begin(), r.users.end(), [&](const std::string& u) { return u == line; });
}

void service::reload(const recording_config& cfg, std::string admin_token) {
  rules_.publish(std::make_shared<const rules>(rules{cfg.calls, cfg.users, std::move(admin_token)}));
}

std::string service::call_recording_id(std::string_view call_id) const {
  const std::time_t now = sys_clock::to_time_t(sys_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  unsigned char nonce[8];
  if (RAND_bytes(nonce, sizeof nonce) != 1) throw std::runtime_error("OpenSSL's random generator failed");
  auto base = safe_name(fmt::format("call-{}-{}", stamp, call_id.substr(0, call_id.find('@'))));
  return base.substr(0, 100) + "-" + hex_of(nonce, sizeof nonce);
}

namespace {

// "<app>-<name>" made safe and cut, and "-<16 hex digits>": what every recording of the stream
// starts and ends with.
std::pair<std::string, std::string> stream_stem(const std::string& secret, std::string_view app, std::string_view name) {
  users::sha256_mac mac;
  if (!users::hmac_sha256(secret, {app, "/", name}, mac))
    throw std::runtime_error("OpenSSL failed to compute HMAC-SHA256");
  return {safe_name(fmt::format("{}-{}", app, name)).substr(0, 90) + "-", "-" + hex_of(mac.data(), 8)};
}

}  // namespace

std::string service::stream_recording_id(std::string_view app, std::string_view name,
                                         std::chrono::system_clock::time_point started) const {
  auto [prefix, suffix] = stream_stem(id_secret_, app, name);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count() % 1000;
  std::string stamp = format_utc(started, "%Y%m%dT%H%M%S");
  return prefix + fmt::format("{}{:03}Z", stamp, ms) + suffix;
}

std::optional<std::string> service::latest_stream_recording(std::string_view app, std::string_view name) const {
  auto [prefix, suffix] = stream_stem(id_secret_, app, name);
  const std::string ending = suffix + ".flv";
  std::optional<std::string> latest;
  if (DIR* d = ::opendir(cfg_.directory.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      std::string_view file{e->d_name};
      if (file.size() < prefix.size() + ending.size() || !file.starts_with(prefix) || !file.ends_with(ending)) continue;
      // The time stamps sort as text; a file of the old form ("<app>-<name>-<digits>") sorts first.
      std::string id{file.substr(0, file.size() - 4)};
      if (!latest || id > *latest) latest = std::move(id);
    }
    ::closedir(d);
  }
  return latest;
}

std::string service::path_of(std::string_view id) const { return cfg_.directory + "/" + std::string{id} + ".flv"; }

void service::write_info(const recording_info& info) const {
  const std::string path = cfg_.directory + "/" + info.id + ".json";
  const std::string temporary = path + ".tmp";
  {
    const std::string text = json::serialize(to_json(info)) + "\n";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const bool written = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) ::close(fd);
    if (!written) {
      log::warn("recording: cannot write {}", temporary);
      return;
    }
  }
  // Whole or not at all, whatever happens to the process meanwhile.
  if (std::rename(temporary.c_str(), path.c_str()) != 0) log::warn("recording: cannot write {}", path);
}

std::optional<recording_info> service::find(std::string_view id) const {
  if (id.empty() || safe_name(id) != id) return std::nullopt;
  const std::string flv = path_of(id);
  struct stat st {};
  if (::stat(flv.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  recording_info r;
  r.id = std::string{id};
  r.kind = "stream";
  r.started = sys_clock::time_point{std::chrono::seconds(st.st_mtim.tv_sec)};
  std::ifstream in(cfg_.directory + "/" + r.id + ".json");
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto value = json::parse(text.str(), ec);
  if (!ec && value.is_object()) {
    const auto& o = value.as_object();
    r.kind = text_of(o, "kind");
    r.call_id = text_of(o, "call_id");
    r.line = text_of(o, "line");
    r.from = text_of(o, "from");
    r.to = text_of(o, "to");
    r.stream = text_of(o, "stream");
    r.started = from_epoch_ms(number_of(o, "started_ms"));
    if (o.contains("ended_ms")) r.ended = from_epoch_ms(number_of(o, "ended_ms"));
    r.duration_ms = static_cast<std::uint32_t>(number_of(o, "duration_seconds") * 1000);
    if (auto* d = o.if_contains("duration_seconds"); d && d->is_double())
      r.duration_ms = static_cast<std::uint32_t>(d->as_double() * 1000);
  }
  r.size = static_cast<std::uint64_t>(st.st_size);
  // Still being written, or cut short by a crash: as long as its last tag says.
  if (!r.ended) r.duration_ms = flv_last_timestamp(flv).value_or(0);
  return r;
}

std::vector<recording_info> service::list() const {
  std::vector<recording_info> out;
  if (DIR* d = ::opendir(cfg_.directory.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      std::string_view name{e->d_name};
      if (name.size() > 4 && name.ends_with(".flv"))
        if (auto r = find(name.substr(0, name.size() - 4))) out.push_back(std::move(*r));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.started > b.started; });
  return out;
}

void service::attach(http::server& web) {
  // The folder and the files are read on a worker (no disk on a shard); the answer is written
  // back on the shard. The lambdas capture references to the handler's frame only.
  web.routes().add({"/api/v1/recordings", http::GET | http::HEAD, true,
                    http::async_handler{[this](http::request_context& ctx) -> asio::awaitable<http::reply> {
                      const auto worker = workers_.assign();
                      auto all = co_await on_worker(workers_, worker, [this] { return list(); });
                      workers_.release(worker);
                      json::array items;
                      for (const auto& r : all) items.push_back(to_json(r));
                      co_return ctx.json(http::status::ok, json::serialize(json::object{{"recordings", std::move(items)}}));
                    }}});
  web.routes().add({"/api/v1/recordings/", http::GET | http::HEAD | http::DELETE, true,
                    http::async_handler{[this](http::request_context& ctx) -> asio::awaitable<http::reply> {
                      const std::string id{ctx.path.substr(std::string_view{"/api/v1/recordings/"}.size())};
                      const bool remove = ctx.req.method() == http::verb::delete_;
                      enum class outcome { found, missing, busy, deleted };
                      const auto worker = workers_.assign();
                      auto [what, r] = co_await on_worker(workers_, worker, [this, &id, remove] {
                        auto found = find(id);
                        if (!found) return std::pair{outcome::missing, found};
                        if (!remove) return std::pair{outcome::found, found};
                        if (!found->ended) return std::pair{outcome::busy, found};
                        std::remove(path_of(found->id).c_str());
                        std::remove((cfg_.directory + "/" + found->id + ".json").c_str());
                        return std::pair{outcome::deleted, found};
                      });
                      workers_.release(worker);
                      switch (what) {
                        case outcome::missing: co_return ctx.problem(http::status::not_found, "no such recording");
                        case outcome::busy:
                          co_return ctx.problem(http::status::conflict, "the recording is still being written");
                        case outcome::deleted:
                          co_return ctx.json(http::status::ok, json::serialize(json::object{{"deleted", r->id}}));
                        case outcome::found: break;
                      }
                      co_return ctx.json(http::status::ok, json::serialize(to_json(*r)));
                    }}});
  // Downloads: the files themselves, with ranges and conditional requests, like the web root.
  auto files = std::make_shared<http::static_files>(cfg_.directory, "", "/recordings/");
  web.routes().add({"/recordings/", http::GET | http::HEAD, true,
                    http::sync_handler{[files, &web](http::request_context& ctx) {
                      if (!ctx.path.ends_with(".flv")) return ctx.problem(http::status::not_found);
                      return files->serve(ctx, web.cache(ctx.home().index()));
                    }}});
}

void service::attach(rtmp::server& rtmp, media::stream_hub& hub) {
  rtmp.set_recorder([this, &hub](junction::shard& home, const std::string& key, std::string_view app,
                                 std::string_view name, bool append) -> std::unique_ptr<rtmp::stream_recording> {
    struct handle final : rtmp::stream_recording {
      stream_recorder recorder;
      handle(service& s, junction::shard& h, media::stream_hub& hub, const std::string& key, std::string_view app,
             std::string_view name, bool append)
          : recorder(s, h, hub, key, std::string{app}, std::string{name}, append) {}
    };
    return std::make_unique<handle>(*this, home, hub, key, app, name, append);
  });
  // rtmp://host/<vod_app>/<recording id>: an empty name asks whether the application is ours.
  // Recordings are the admin's: a player needs what their download needs, the admin token.
  rtmp.set_vod([this](std::string_view app, std::string_view name) -> std::optional<rtmp::server::vod_target> {
    if (cfg_.vod_app.empty() || app != cfg_.vod_app) return std::nullopt;
    rtmp::server::vod_target target{{}, rules_.get().admin_token};
    if (name.ends_with(".flv")) name.remove_suffix(4);
    if (!name.empty() && safe_name(name) == name) target.path = path_of(name);  // never outside the folder
    return target;
  });
}

}  // namespace junction::recording
