#include "app/reload.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "core/byte_stream.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/sd_notify.hpp"
#include "http/server.hpp"
#include "recording/service.hpp"
#include "rtmp/server.hpp"
#include "sip/server.hpp"
#include "xmpp/server.hpp"

namespace junction::app {
namespace asio = boost::asio;

void command_line_overrides::apply(config& cfg) const {
  if (listen_all) cfg.apply_listen_all();
  if (shards) cfg.server.shards = shards;
  if (!log_level.empty()) cfg.server.log_level = log_level;
}

namespace {

constexpr const char* reloadable[] = {
    "server.log_level",
    "http.admin_token", "http.tls_certificate", "http.tls_private_key", "http.tls_min_version",
    "http.tls_max_version", "http.tls_ciphers", "http.tls_ciphersuites",
    "rtmp.app", "rtmp.catch_all", "rtmp.tls_certificate", "rtmp.tls_private_key", "rtmp.tls_min_version", "rtmp.tls_max_version",
    "rtmp.tls_ciphers", "rtmp.tls_ciphersuites", "rtmp.chunk_size", "rtmp.window_ack_size",
    "rtmp.max_message_size", "rtmp.max_streams_per_connection", "rtmp.incomplete_bytes_before_publish",
    "rtmp.incomplete_bytes", "rtmp.incomplete_message_timeout", "rtmp.handshake_timeout", "rtmp.ping_interval",
    "rtmp.idle_timeout", "rtmp.send_timeout", "rtmp.player_queue_bytes", "rtmp.send_buffer", "rtmp.merge_write",
    "sip.domains", "sip.tls_certificate", "sip.tls_private_key", "sip.tls_min_version", "sip.tls_max_version",
    "sip.tls_ciphers", "sip.tls_ciphersuites",
    "xmpp.tls_certificate", "xmpp.tls_private_key", "xmpp.tls_min_version", "xmpp.tls_max_version",
    "xmpp.tls_ciphers", "xmpp.tls_ciphersuites",
    "recording.calls", "recording.users",
};

// `running` with every reloadable value taken from `next`: equal to `next` exactly when nothing
// else changed.
config with_reloadable_values(const config& running, const config& next) {
  config c = running;
  c.server.log_level = next.server.log_level;
  c.http.admin_token = next.http.admin_token;
  c.http.tls_certificate = next.http.tls_certificate;
  c.http.tls_private_key = next.http.tls_private_key;
  c.http.tls = next.http.tls;
  // rtmp: all but the listeners, HTTP-FLV's route and the process-wide budget.
  rtmp_config r = next.rtmp;
  r.listen = running.rtmp.listen;
  r.tls_listen = running.rtmp.tls_listen;
  r.listen_given = running.rtmp.listen_given;
  r.http_flv = running.rtmp.http_flv;
  r.incomplete_bytes_total = running.rtmp.incomplete_bytes_total;
  c.rtmp = r;
  c.sip.domains = next.sip.domains;
  c.sip.tls_certificate = next.sip.tls_certificate;
  c.sip.tls_private_key = next.sip.tls_private_key;
  c.sip.tls = next.sip.tls;
  // XMPP's certificate may be renewed or replaced, not added or taken away: whether there is one
  // decides whether plain logins are allowed, which only a restart changes.
  if (running.xmpp.tls_certificate.empty() == next.xmpp.tls_certificate.empty()) {
    c.xmpp.tls_certificate = next.xmpp.tls_certificate;
    c.xmpp.tls_private_key = next.xmpp.tls_private_key;
    c.xmpp.tls = next.xmpp.tls;
  }
  c.recording.calls = next.recording.calls;
  c.recording.users = next.recording.users;
  c.source = next.source;
  return c;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string joined(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace

int reload_request_signal() { return SIGRTMIN; }

bool reloadable_key(const std::string& key) {
  return std::find(std::begin(reloadable), std::end(reloadable), key) != std::end(reloadable);
}

struct reloader::waiter {
  asio::steady_timer* timer = nullptr;
  std::optional<reload_outcome> outcome;
};

reloader::reloader(runtime& rt, std::string path, command_line_overrides overrides, config current, targets what)
    : rt_(rt),
      path_(std::move(path)),
      overrides_(std::move(overrides)),
      current_(std::move(current)),
      current_text_(path_.empty() ? std::string{} : read_text(path_)),
      targets_(what),
      waiting_(rt.size()),
      next_number_(rt.size(), 0) {}

reload_outcome reloader::reload() {
  reload_outcome out;
  if (path_.empty()) {
    out.message = "reload refused: junction runs on the built-in configuration (no --config file to read again)";
    log::warn("{}", out.message);
    return out;
  }
  sd_notify("RELOADING=1");
  const std::string text = read_text(path_);
  config next;
  try {
    next = config::load_file(path_);
    overrides_.apply(next);
    // Every certificate is read again (a renewed one may sit at the same path): a bad one
    // refuses the whole reload before anything changes.
    if (!next.http.tls_listen.empty())
      make_tls_server_context("http", next.http.tls_certificate, next.http.tls_private_key, next.http.tls);
    if (!next.rtmp.tls_listen.empty())
      make_tls_server_context("rtmp", next.rtmp.tls_certificate, next.rtmp.tls_private_key, next.rtmp.tls);
    if (!next.sip.tls_listen.empty())
      make_tls_server_context("sip", next.sip.tls_certificate, next.sip.tls_private_key, next.sip.tls);
    if (next.xmpp.enabled && !next.xmpp.tls_certificate.empty())
      make_tls_server_context("xmpp", next.xmpp.tls_certificate, next.xmpp.tls_private_key, next.xmpp.tls);
  } catch (const config_error& e) {
    out.message = fmt::format("reload refused, the running configuration stays: {}", e.what());
    log::warn("{}", out.message);
    sd_notify("READY=1");
    return out;
  }
  // What changed in the file, key by key.
  const auto before = flatten_config(current_text_), after = flatten_config(text);
  std::vector<std::string> restart;
  for (const auto* side : {&before, &after})
    for (const auto& [key, value] : *side) {
      const auto& other = side == &before ? after : before;
      auto found = other.find(key);
      if (found != other.end() && found->second == value) continue;
      if (std::find(out.changed.begin(), out.changed.end(), key) != out.changed.end()) continue;
      out.changed.push_back(key);
      if (!reloadable_key(key)) restart.push_back(key);
    }
  std::sort(out.changed.begin(), out.changed.end());
  std::sort(restart.begin(), restart.end());
  if (!(with_reloadable_values(current_, next) == next) && restart.empty()) restart.push_back("a key that needs a restart");
  if (!restart.empty()) {
    out.message = fmt::format("reload refused, the running configuration stays: {} cannot change without a restart",
                              joined(restart));
    log::warn("{}", out.message);
    sd_notify("READY=1");
    return out;
  }
  log::level level = log::level::info;
  log::parse_level(next.server.log_level, level);
  log::set_level(level);
  if (targets_.web) targets_.web->reload(next.http);
  if (targets_.rtmp) targets_.rtmp->reload(next.rtmp);
  if (targets_.sip) targets_.sip->reload(next.sip);
  if (targets_.xmpp) targets_.xmpp->reload(next.xmpp);
  if (targets_.recordings) targets_.recordings->reload(next.recording, next.http.admin_token);
  current_ = std::move(next);
  current_text_ = text;
  out.ok = true;
  out.message = out.changed.empty() ? fmt::format("configuration reloaded from {} (nothing changed)", path_)
                                    : fmt::format("configuration reloaded from {}: {}", path_, joined(out.changed));
  log::info("{}", out.message);
  sd_notify("READY=1");
  return out;
}

asio::awaitable<reload_outcome> reloader::request(std::chrono::milliseconds timeout) {
  shard& home = *shard::current();
  const unsigned index = home.index();
  const std::uint32_t number = next_number_[index]++ & 0xFFFFF;
  asio::steady_timer timer{home.context()};
  timer.expires_after(timeout);
  waiter w;
  w.timer = &timer;
  waiting_[index][number] = &w;
  sigval value{};
  value.sival_int = static_cast<int>((index << 20) | number);
  if (::sigqueue(::getpid(), reload_request_signal(), value) != 0) {
    waiting_[index].erase(number);
    co_return reload_outcome{false, fmt::format("cannot signal the main thread: {}", std::strerror(errno)), {}};
  }
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  waiting_[index].erase(number);
  if (w.outcome) co_return std::move(*w.outcome);
  co_return reload_outcome{false, "the reload did not finish in time", {}};
}

void reloader::answer(int request_number, const reload_outcome& outcome) {
  const unsigned index = static_cast<unsigned>(request_number) >> 20;
  const std::uint32_t number = static_cast<std::uint32_t>(request_number) & 0xFFFFF;
  if (index >= rt_.size()) return;
  rt_.post(index, [this, index, number, outcome] {
    auto found = waiting_[index].find(number);
    if (found == waiting_[index].end()) return;  // it gave up waiting
    found->second->outcome = outcome;
    found->second->timer->cancel();
  });
}

}  // namespace junction::app
