// One client connection: the socket, the write queue and the watchdog around a c2s_stream.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/crypto.h>

#include <array>
#include <set>
#include <charconv>
#include <chrono>
#include <memory>

#include "core/byte_stream.hpp"
#include "core/connection.hpp"
#include "core/runtime.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/spawn.hpp"
#include "core/write_queue.hpp"
#include "http/websocket.hpp"
#include "users/user_directory.hpp"
#include "xmpp/c2s_stream.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/random_id.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_queued_bytes = 4 << 20;  // a client that reads nothing is closed at this

std::string make_stream_id() { return random_id(12); }

// Where a stream comes from, as its settings depend on it.
struct stream_kind {
  bool loopback = false;
  bool websocket = false;  // RFC 7395 framing, over the HTTP server's WebSocket
  bool secure = false;     // a WebSocket over HTTPS (a TCP stream is secure after STARTTLS)
};

c2s_settings settings_of(server& srv, shard& home, stream_kind kind) {
  c2s_settings s;
  // A resumable stream's id starts with its shard: the stream that resumes it asks there.
  if (srv.config().sm_resume_timeout.count() > 0) s.sm_id_prefix = std::to_string(home.index()) + ".";
  s.sm_resume_seconds = static_cast<unsigned>(
      std::chrono::duration_cast<std::chrono::seconds>(srv.config().sm_resume_timeout).count());
  s.sm_max_unacked = srv.config().sm_max_unacked;
  s.domains = srv.domains();
  s.framed = kind.websocket;
  s.secure = kind.secure;
  if (kind.websocket) {
    s.allow_plain = kind.loopback;  // ws:// from elsewhere: wss:// (TLS is the HTTP listener's)
  } else {
    s.allow_plain = kind.loopback && !srv.tls();  // with a certificate, TLS is for everyone
    s.tls_offered = srv.tls() != nullptr;
    s.tls_required = srv.tls() && srv.config().require_tls;
  }
  s.max_auth_failures = srv.config().max_auth_failures;
  s.archive = srv.config().archive;
  s.registration = srv.config().registration;
  s.muc_subdomain = srv.config().muc_subdomain;
  if (srv.has_upload()) s.upload_subdomain = srv.config().upload_subdomain;
  s.limits.max_stanza_bytes = srv.config().max_stanza_size;
  return s;
}

// The connection's byte stream: plain, then TLS after STARTTLS.
struct stream_holder {
  std::unique_ptr<byte_stream> stream;
};

// What a TLS stream can bind SCRAM's -PLUS mechanisms to.
std::vector<users::scram_server::binding> bindings_of(byte_stream& stream) {
  std::vector<users::scram_server::binding> out;
  for (const char* type : {"tls-exporter", "tls-server-end-point", "tls-unique"})
    if (auto data = stream.channel_binding(type); !data.empty()) out.push_back({type, std::move(data)});
  return out;
}

class c2s_connection final : public stanza_sink {
 public:
  // `write` writes one frame (TCP: bytes; WebSocket: one message), `close` closes the connection.
  c2s_connection(server& srv, shard& home, connection& conn, write_queue::write_fn write, std::function<void()> close,
                 std::string source, stream_kind kind)
      : srv_(srv), home_(home), conn_(conn), core_(settings_of(srv, home, kind), make_stream_id()),
        source_(std::move(source)),
        out_(home, "xmpp stream " + std::to_string(conn.id()), std::move(write), std::move(close), max_queued_bytes) {
    router_.attach(conn_.id(), *this);
  }

  ~c2s_connection() override {
    *alive_ = false;
    router_.detach(conn_.id());
    // A server going away tells nobody: every stream ends, and the other shards may be gone.
    if (!bound_ || home_.draining()) return;
    // Lost rather than closed, with resumption on (XEP-0198): the session waits for the client.
    if (core_.resumable() && !core_.closed()) {
      auto session = std::make_shared<resumable_session>();
      session->address = core_.address();
      session->available = available_;
      session->shard = home_.index();
      session->stream = conn_.id();
      session->sm = core_.take_sm_state();
      session->directed.assign(directed_.begin(), directed_.end());
      router_.hibernate(std::move(session));
      return;
    }
    // The account's other resources learn that this one left (RFC 6121 §4.5.2).
    srv_.end_session(core_.address(), conn_.id(), available_, {directed_.begin(), directed_.end()});
    home_.metrics().sub(srv_.metrics().sessions, 1);
  }

  c2s_connection(const c2s_connection&) = delete;
  c2s_connection& operator=(const c2s_connection&) = delete;

  void deliver(const stanza_ptr& stanza) override {
    core_.deliver(stanza);
    home_.metrics().add(srv_.metrics().stanzas_out);
    flush();
  }

  stream_summary summary() const override {
    stream_summary s;
    s.id = conn_.id();
    s.address = core_.address().empty() ? std::string{} : core_.address().str();
    s.bound = core_.bound();
    s.peer = conn_.peer();
    s.secure = core_.secure();
    s.since = since_;
    return s;
  }

  void resume_with(std::shared_ptr<resumable_session> found) override {
    if (!found || core_.closed()) {
      core_.resume_failed();
      if (found) {  // this stream closed meanwhile: the session ends here
        srv_.end_session(found->address, found->stream, found->available, found->directed);
      }
      return flush();
    }
    bound_ = true;
    available_ = found->available;
    directed_.insert(found->directed.begin(), found->directed.end());
    home_.metrics().add(srv_.metrics().sessions);
    srv_.rebind(found->address, found->stream, home_.index(), conn_.id());
    log::info("xmpp {}: {} resumed its stream", conn_.peer(), found->address.str());
    core_.resumed(found->address, std::move(found->sm));
    flush();
  }

  void blocklist(std::shared_ptr<const std::set<std::string>> blocked) override { blocked_ = std::move(blocked); }

  void kick(std::string_view condition, std::string_view text) override {
    core_.fail(condition, text);
    flush();
  }

  void received(std::string_view bytes) {
    core_.receive(bytes);
    flush();
  }

  void idle() { core_.idle(); }
  // The stream asked for TLS (its <proceed/> is queued): the reader starts it.
  bool wants_tls() const noexcept { return wants_tls_; }
  void tls_started(byte_stream& stream) {
    wants_tls_ = false;
    core_.tls_started(bindings_of(stream));
    flush();
  }
  void tls_from_the_start(byte_stream& stream) { core_.tls_from_the_start(bindings_of(stream)); }

  write_queue& out() noexcept { return out_; }
  bool closed() const noexcept { return core_.closed(); }
  bool bound() const noexcept { return bound_; }

 private:
  void flush() {
    for (auto& frame : core_.take_frames()) out_.send(std::move(frame));
    for (auto& e : core_.take_events()) handle(e);
  }

  void handle(c2s_event& e) {
    auto& counters = home_.metrics();
    const auto& m = srv_.metrics();
    switch (e.what) {
      case c2s_event::kind::need_credentials: {
        // A source or account locked out after failed logins gets no check at all.
        const auto now = users::auth_throttle::clock::now();
        const auto wait = std::max(router_.guessers().locked_for(source_, now),
                                   router_.guessed().locked_for(e.username + "@" + e.who.domain(), now));
        if (wait.count() > 0) {
          counters.add(m.auth_throttled);
          log::throttled(log::level::info, "xmpp auth throttled", "xmpp {}: login as \"{}\" refused for {} s more",
                         conn_.peer(), e.username, wait.count());
          core_.refuse_credentials("temporary-auth-failure");
          return flush();
        }
        return look_up(e.username, e.who.domain());
      }
      case c2s_event::kind::starttls: wants_tls_ = true; return;
      case c2s_event::kind::authenticated:
        counters.add(m.logins);
        router_.guessed().succeeded(e.who.str());
        log::info("xmpp {}: {} logged in", conn_.peer(), e.who.str());
        return;
      case c2s_event::kind::auth_failed:
        counters.add(m.auth_failures);
        if (!e.username.empty()) {
          const auto now = users::auth_throttle::clock::now();
          router_.guessers().failed(source_, now);
          router_.guessed().failed(e.username + "@" + e.who.domain(), now);
        }
        log::throttled(log::level::info, "xmpp auth failure", "xmpp {}: authentication failed for \"{}\"",
                       conn_.peer(), e.username);
        return;
      case c2s_event::kind::bound:
        bound_ = true;
        counters.add(m.sessions);
        srv_.bind(e.who, home_.index(), conn_.id());
        return;
      case c2s_event::kind::route:
        counters.add(m.stanzas_in);
        if (refused_as_blocked(e)) return;
        if (e.stanza->name() == "presence") track_directed(e.who.str(), e.stanza->attr("type"));
        if (e.stanza->name() == "message" && e.stanza->attr("type") != "error")
          return srv_.sent_message(core_.address(), e.who, std::move(e.stanza));
        srv_.sent(core_.address(), e.who, std::move(e.stanza));
        return;
      case c2s_event::kind::resume: {
        // The id says which shard the stream lived on ("3.xyz"); that shard checks the account.
        unsigned shard = 0;
        const auto dot = e.reason.find('.');
        const auto [end, ec] = std::from_chars(e.reason.data(), e.reason.data() + (dot == std::string::npos ? 0 : dot), shard);
        if (dot == std::string::npos || ec != std::errc{} || end != e.reason.data() + dot || shard >= srv_.rt().size()) {
          core_.resume_failed();
          return flush();
        }
        srv_.take_hibernated(shard, e.reason, e.who.bare(), conn_.id());
        return;
      }
      case c2s_event::kind::resumed: return;
      case c2s_event::kind::register_account:
      case c2s_event::kind::change_password:
      case c2s_event::kind::unregister: return account_change(e);
      case c2s_event::kind::carbons:
        srv_.set_carbons(core_.address(), conn_.id(), e.reason == "enable");
        return;
      case c2s_event::kind::account_iq:
        counters.add(m.stanzas_in);
        srv_.account_iq(e.who, std::move(e.stanza));
        return;
      case c2s_event::kind::subscription:
        counters.add(m.stanzas_in);
        if (refused_as_blocked(e)) return;
        srv_.subscription(core_.address().bare(), e.who, std::move(e.stanza));
        return;
      case c2s_event::kind::broadcast:
        counters.add(m.stanzas_in);
        available_ = e.stanza->attr("type").empty();
        if (!available_) {
          // Unavailable to everyone: to those it sent presence directly too (RFC 6121 §4.6.3).
          srv_.directed_unavailable(core_.address(), {directed_.begin(), directed_.end()});
          directed_.clear();
        }
        srv_.broadcast(e.who, conn_.id(), std::move(e.stanza));
        return;
      case c2s_event::kind::closed:
        if (e.reason != "the client closed its stream") {
          counters.add(m.stream_errors);
          log::throttled(log::level::info, "xmpp stream error", "xmpp {}: stream ended: {}", conn_.peer(), e.reason);
        }
        out_.stop_when_written();
        return;
    }
  }

  // In-band registration (XEP-0077), a new password, a removed account: on the store's worker,
  // then the answer here (every shard's cache of users forgets what it knew).
  void account_change(c2s_event& e) {
    if (e.what != c2s_event::kind::register_account) return store_change(e);
    // New accounts are counted per source address, on the shard that address hashes to.
    srv_.may_register(source_, home_.index(), [this, alive = alive_, e](bool allowed) mutable {
      if (!*alive) return OPENSSL_cleanse(e.password.data(), e.password.size());
      if (allowed) return store_change(e);
      OPENSSL_cleanse(e.password.data(), e.password.size());
      log::throttled(log::level::info, "xmpp registration throttled", "xmpp {}: registration refused (too many from there)",
                     conn_.peer());
      core_.registered("resource-constraint");
      flush();
    });
  }

  void store_change(c2s_event& e) {
    const auto kind = e.what;
    const unsigned here = home_.index();
    auto& rt = srv_.rt();
    auto& directory = srv_.users();
    directory.write("xmpp in-band registration",
                    [kind, here, &rt, &directory, alive = alive_, this, user = e.username, realm = e.who.domain(),
                     password = std::move(e.password)](users::user_store& s) mutable {
                      std::string condition;
                      try {
                        if (kind == c2s_event::kind::unregister) {
                          s.remove(user, realm);
                        } else if (kind == c2s_event::kind::register_account && s.find(user, realm)) {
                          condition = "conflict";
                        } else {
                          s.add(user, realm, password);
                        }
                      } catch (const std::invalid_argument&) {
                        condition = "not-acceptable";
                      }
                      OPENSSL_cleanse(password.data(), password.size());
                      rt.post(here, [this, alive, &directory, condition, user, kind] {
                        if (condition.empty()) directory.forget_everything();
                        if (!*alive) return;
                        if (condition.empty())
                          log::info("xmpp {}: {} {}", conn_.peer(), user,
                                    kind == c2s_event::kind::register_account ? "registered"
                                    : kind == c2s_event::kind::unregister     ? "removed its account"
                                                                              : "changed its password");
                        core_.registered(condition);
                        flush();
                      });
                    });
  }

  // The user's keys from the store's cache, or from its worker (then this runs again).
  void look_up(const std::string& username, const std::string& realm) {
    auto& directory = srv_.users();
    const users::user_record* record = nullptr;
    switch (directory.find(home_.index(), username, realm, &record)) {
      case users::cached::found: core_.credentials(*record); return flush();
      case users::cached::absent: core_.credentials(std::nullopt); return flush();
      case users::cached::failed: core_.fail("internal-server-error", "the user store is unavailable"); return flush();
      case users::cached::unknown:
        directory.fetch_user(home_.index(), username, realm, [this, alive = alive_, username, realm] {
          if (*alive) look_up(username, realm);
        });
        return;
    }
  }

  // What the account blocks gets nothing from it (XEP-0191 §3.6): a message or a query comes
  // back as not-acceptable with <blocked/>, presence is dropped.
  bool refused_as_blocked(const c2s_event& e) {
    if (!blocked_ || !is_blocked(*blocked_, e.who)) return false;
    const std::string_view type = e.stanza->attr("type");
    if (e.stanza->name() == "presence" || type == "error" || type == "result") return true;
    auto error = std::make_shared<xml::element>(*e.stanza);
    error->set("type", "error");
    error->set("from", e.stanza->attr("to"));
    error->set("to", core_.address().str());
    auto& err = error->add(std::string(ns::client), "error");
    err.set("type", "cancel");
    err.add(std::string(ns::stanza_errors), "not-acceptable");
    err.add("urn:xmpp:blocking:errors", "blocked");
    deliver(error);
    return true;
  }

  // Directed presence (RFC 6121 §4.6): whom to tell when this resource goes.
  void track_directed(const std::string& to, std::string_view type) {
    if (type.empty() && directed_.size() < 1000) directed_.insert(to);
    else if (type == "unavailable") directed_.erase(to);
  }

  server& srv_;
  shard& home_;
  shard_router& router_ = srv_.router_here();
  std::set<std::string> directed_;
  std::shared_ptr<const std::set<std::string>> blocked_;
  connection& conn_;
  c2s_stream core_;
  std::string source_;  // the peer's address: failed logins are counted by it
  std::chrono::system_clock::time_point since_ = std::chrono::system_clock::now();
  write_queue out_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool bound_ = false, available_ = false, wants_tls_ = false;
};

struct read_times {
  clock::time_point opened = clock::now();
  clock::time_point last_read = opened;
};

// Reads and hands bytes to the stream until either side ends it. TLS starts here: first thing on a
// direct TLS connection, or when the stream asked for it (STARTTLS), once its <proceed/> is out
// and before another byte is read.
asio::awaitable<void> read_stream(server& srv, c2s_connection& c, stream_holder& holder, connection& conn,
                                  read_times& times, bool direct_tls) {
  // One buffer for every stream of the shard: an idle plain stream holds none (read_shared).
  static thread_local std::array<std::byte, 16384> chunk;
  auto start_tls = [&]() -> asio::awaitable<bool> {
    auto failed = co_await holder.stream->handshake();
    if (failed) {
      log::throttled(log::level::info, "xmpp tls handshake failure", "xmpp {}: TLS handshake failed: {}", conn.peer(),
                     failed.message());
      co_return false;
    }
    times.last_read = clock::now();
    co_return true;
  };
  if (direct_tls) {
    if (!co_await start_tls()) {
      c.out().stop();
      co_return;
    }
    c.tls_from_the_start(*holder.stream);
  }
  while (!c.closed() && !c.out().stopped()) {
    auto [ec, n] = co_await holder.stream->read_shared(chunk);
    if (ec || n == 0) break;
    conn.received(n);
    times.last_read = clock::now();
    c.received(std::string_view(reinterpret_cast<const char*>(chunk.data()), n));
    if (!c.wants_tls()) {
      c.idle();  // the next read waits: the parser's memory need not
      continue;
    }
    co_await c.out().drained();
    if (c.out().stopped()) break;
    auto socket = std::move(holder.stream->socket());
    holder.stream = make_tls_stream(std::move(socket), *srv.tls());
    if (!co_await start_tls()) break;
    c.tls_started(*holder.stream);
  }
  // The peer went (or the stream ended): what is queued may still go, then the socket closes.
  if (!c.closed()) c.out().stop();
}

// Closes a stream that has not bound a resource within xmpp.login_timeout, or has sent nothing
// for xmpp.idle_timeout (clients ping or send whitespace well within that). A timer and a
// callback, not a coroutine: what an idle stream holds for it is one timer's wait.
class watchdog : public std::enable_shared_from_this<watchdog> {
 public:
  watchdog(server& srv, shard& home, c2s_connection& c, const read_times& times)
      : timer_(home.context()), login_(srv.config().login_timeout), idle_(srv.config().idle_timeout), c_(c),
        times_(times) {}
  void start() { arm(); }
  // The stream has ended: its connection is not touched again (the wait under way may still
  // complete; it finds this stopped).
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm() {
    auto deadline = times_.last_read + idle_;
    if (!c_.bound()) deadline = std::min(deadline, times_.opened + login_);
    timer_.expires_at(deadline);
    wait();
  }
  void wait() {
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->fired(ec); });
  }
  void fired(const boost::system::error_code& ec) {
    if (stopped_ || ec || c_.out().stopped()) return;
    if (kicked_) return c_.out().stop();  // the stream error went unread: closed now
    const auto now = clock::now();
    const char* why = !c_.bound() && now >= times_.opened + login_ ? "no login within xmpp.login_timeout"
                      : now >= times_.last_read + idle_               ? "nothing received within xmpp.idle_timeout"
                                                                      : nullptr;
    if (!why) return arm();
    c_.kick("connection-timeout", why);
    // The stream error goes out (the writer ends when it has); a client that does not read it
    // is closed a little later.
    kicked_ = true;
    timer_.expires_after(std::chrono::seconds(5));
    wait();
  }

  asio::steady_timer timer_;
  const clock::duration login_, idle_;
  c2s_connection& c_;
  const read_times& times_;
  bool stopped_ = false, kicked_ = false;
};

// What runs beside a stream's reader: its write loop and its watchdog, started together; once
// the reader has ended (`failure`: how, if it threw), ended() waits for the writer, stops the
// watchdog and passes the failure on.
class beside_reader {
 public:
  beside_reader(server& srv, shard& home, c2s_connection& c, const read_times& times)
      : c_(c), dog_(std::make_shared<watchdog>(srv, home, c, times)) {
    dog_->start();
    c.out().spawn_loop();
  }
  asio::awaitable<void> ended(std::exception_ptr failure) {
    if (failure) c_.out().stop();
    co_await c_.out().loop_ended();  // it uses the connection until then
    dog_->stop();
    if (failure) std::rethrow_exception(failure);
  }

 private:
  c2s_connection& c_;
  std::shared_ptr<watchdog> dog_;
};

asio::awaitable<void> run_c2s(server& srv, shard& home, asio::ip::tcp::socket socket, connection_ticket ticket,
                              bool direct_tls) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(asio::ip::tcp::no_delay{true}, ec);
  const auto context = srv.tls();  // outlives the connection's streams
  stream_holder holder{direct_tls ? make_tls_stream(std::move(socket), *context) : make_plain_stream(std::move(socket))};
  connection conn{home,
                  std::move(ticket),
                  direct_tls ? srv.metrics().c2s_tls : srv.metrics().c2s,
                  direct_tls ? "xmpps" : "xmpp",
                  peer_text(remote.address(), remote.port()),
                  [&holder] { holder.stream->shutdown(); }};
  conn.set_idle(true);  // a stream may stay open for days: draining closes it at once
  c2s_connection c(
      srv, home, conn,
      [&holder, &conn](std::string_view bytes) -> asio::awaitable<boost::system::error_code> {
        asio::const_buffer b(bytes.data(), bytes.size());
        auto [error, n] = co_await holder.stream->write(std::span<const asio::const_buffer>(&b, 1));
        conn.sent(n);
        co_return error;
      },
      [&holder] { holder.stream->shutdown(); }, remote.address().to_string(),
      stream_kind{.loopback = remote.address().is_loopback()});
  read_times times;
  beside_reader beside(srv, home, c, times);
  std::exception_ptr failure;
  try {
    co_await read_stream(srv, c, holder, conn, times, direct_tls);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await beside.ended(failure);
}

bool loopback_text(std::string_view host) {
  return host.starts_with("127.") || host == "::1" || host == "[::1]";
}

}  // namespace

asio::awaitable<void> run_websocket_c2s(server& srv, http::websocket_channel& channel) {
  connection& conn = channel.conn();
  shard& home = conn.home();
  // The HTTP connection knows its peer as "address:port".
  const std::string host = conn.peer().substr(0, conn.peer().rfind(':'));
  c2s_connection c(
      srv, home, conn,
      [&channel](std::string_view frame) -> asio::awaitable<boost::system::error_code> {
        co_return co_await channel.write(frame, true);
      },
      [&conn] { conn.close(); }, host,
      stream_kind{.loopback = loopback_text(host), .websocket = true, .secure = conn.protocol() == "https"});
  read_times times;
  auto reader = [&]() -> asio::awaitable<void> {
    http::ws_message m;
    while (!c.closed() && !c.out().stopped()) {
      if (co_await channel.read(m)) break;
      times.last_read = clock::now();
      c.received(m.data);
    }
    if (!c.closed()) c.out().stop();
  };
  beside_reader beside(srv, home, c, times);
  std::exception_ptr failure;
  try {
    co_await reader();
  } catch (...) {
    failure = std::current_exception();
  }
  co_await beside.ended(failure);
}

void start_c2s_session(server& srv, shard& home, asio::ip::tcp::socket socket, connection_ticket ticket,
                       bool direct_tls) {
  asio::co_spawn(home.context(), run_c2s(srv, home, std::move(socket), std::move(ticket), direct_tls),
                 log_failure{"xmpp stream"});
}

}  // namespace junction::xmpp
