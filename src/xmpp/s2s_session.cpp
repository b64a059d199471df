// Server-to-server connections (federation): the socket, TLS, the write queue and the watchdog
// around an s2s_stream, incoming (another server connected to s2s_listen) and outgoing (a link
// to another server's domain, s2s_links.hpp).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <memory>

#include "core/byte_stream.hpp"
#include "core/connection.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "core/spawn.hpp"
#include "core/worker_pool.hpp"
#include "core/write_queue.hpp"
#include "xmpp/random_id.hpp"
#include "xmpp/s2s_links.hpp"
#include "xmpp/s2s_resolve.hpp"
#include "xmpp/s2s_stream.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_queued_bytes = 16 << 20;  // a peer that reads nothing is closed at this

std::string make_stream_id() { return random_id(15); }

s2s_settings settings_of(server& srv, bool incoming) {
  s2s_settings s;
  s.domains = srv.domains();
  s.tls_offered = incoming && srv.tls() != nullptr;
  s.require_encryption = srv.config().s2s_require_encryption;
  s.secret = srv.dialback_secret();
  s.limits.max_stanza_bytes = srv.config().max_stanza_size;
  return s;
}

struct stream_holder {
  std::unique_ptr<byte_stream> stream;
};

struct activity {
  clock::time_point opened = clock::now();
  clock::time_point last = opened;
};

// What both directions share: the stream core, its queue, and the bytes in between.
class s2s_connection {
 public:
  s2s_connection(server& srv, shard& home, connection& conn, stream_holder& holder, s2s_stream::role side,
                 const std::string& local = {}, const std::string& remote = {})
      : srv_(srv), home_(home), conn_(conn), holder_(holder),
        core_(settings_of(srv, side == s2s_stream::role::incoming), side,
              side == s2s_stream::role::incoming ? make_stream_id() : std::string{}, local, remote),
        out_(home, "xmpp s2s " + std::to_string(conn.id()),
             [this](std::string_view bytes) -> asio::awaitable<boost::system::error_code> {
               asio::const_buffer b(bytes.data(), bytes.size());
               auto [error, n] = co_await holder_.stream->write(std::span<const asio::const_buffer>(&b, 1));
               conn_.sent(n);
               co_return error;
             },
             [this] { holder_.stream->shutdown(); }, max_queued_bytes) {}
  virtual ~s2s_connection() = default;

  void received(std::string_view bytes) {
    core_.receive(bytes);
    flush();
  }
  bool wants_tls() const noexcept { return wants_tls_; }
  void tls_started() {
    wants_tls_ = false;
    core_.tls_started();
    flush();
  }
  void close_idle() {
    core_.close();
    flush();
  }
  void kick(std::string_view condition, std::string_view text) {
    core_.fail(condition, text);
    flush();
  }
  write_queue& out() noexcept { return out_; }
  bool closed() const noexcept { return core_.closed(); }
  bool authenticated() const noexcept { return core_.authenticated() || !core_.verified_pairs().empty(); }
  const s2s_stream& core() const noexcept { return core_; }
  const std::string& reason() const noexcept { return reason_; }
  activity times;

 protected:
  void flush() {
    if (auto bytes = core_.take_output(); !bytes.empty()) out_.send(std::move(bytes));
    for (auto& e : core_.take_events()) handle(e);
  }
  virtual void handle(s2s_event& e) = 0;
  void ended(const s2s_event& e) {
    reason_ = e.reason;
    out_.stop_when_written();
  }

  server& srv_;
  shard& home_;
  connection& conn_;
  stream_holder& holder_;
  s2s_stream core_;
  write_queue out_;
  bool wants_tls_ = false;
  std::string reason_;
};

class incoming_connection final : public s2s_connection, public s2s_incoming {
 public:
  incoming_connection(server& srv, shard& home, connection& conn, stream_holder& holder)
      : s2s_connection(srv, home, conn, holder, s2s_stream::role::incoming) {
    srv_.links_here().attach(conn_.id(), *this);
  }
  ~incoming_connection() override { srv_.links_here().detach(conn_.id()); }

  void verified(const std::string& local, const std::string& remote, bool valid) override {
    core_.verified(local, remote, valid);
    if (!valid)
      log::throttled(log::level::warn, "xmpp s2s dialback invalid",
                     "xmpp federation: {} claimed {}, and that domain's server denied it", conn_.peer(), remote);
    flush();
  }

 private:
  void handle(s2s_event& e) override {
    switch (e.what) {
      case s2s_event::kind::starttls: wants_tls_ = true; return;
      case s2s_event::kind::verify_needed:
        srv_.s2s_ask_verify(e.local, e.remote, e.id, e.key, home_.index(), conn_.id());
        return;
      case s2s_event::kind::authenticated:
        log::info("xmpp federation: {} is {} (dialback), sending to {}", conn_.peer(), e.remote, e.local);
        return;
      case s2s_event::kind::stanza: {
        times.last = clock::now();
        home_.metrics().add(srv_.metrics().s2s_stanzas_in);
        const auto to = jid::parse(e.stanza->attr("to"));
        if (!to) return;
        if (to->local().empty()) return srv_.server_stanza(std::move(e.stanza));
        srv_.route(*to, std::move(e.stanza));
        return;
      }
      case s2s_event::kind::closed:
        if (e.reason != "the peer closed its stream") home_.metrics().add(srv_.metrics().stream_errors);
        return ended(e);
      case s2s_event::kind::verify_answer: return;
    }
  }
};

class outgoing_connection final : public s2s_connection, public s2s_outgoing {
 public:
  outgoing_connection(server& srv, shard& home, connection& conn, stream_holder& holder, const std::string& local,
                      const std::string& remote)
      : s2s_connection(srv, home, conn, holder, s2s_stream::role::outgoing, local, remote) {
    srv_.links_here().connected(local, remote, *this);
    flush();  // the stream header
  }

  void send(const xml::element& stanza) override {
    times.last = clock::now();
    core_.send_stanza(stanza);
    flush();
  }
  void ask_verify(const std::string& id, const std::string& key) override {
    core_.ask_verify(id, key);
    flush();
  }

 private:
  void handle(s2s_event& e) override {
    switch (e.what) {
      case s2s_event::kind::starttls: wants_tls_ = true; return;
      case s2s_event::kind::authenticated:
        times.last = clock::now();
        srv_.links_here().ready(core_.local(), core_.remote());
        return;
      case s2s_event::kind::verify_answer:
        srv_.links_here().verify_answer(e.local, e.remote, e.id, e.valid);
        return;
      case s2s_event::kind::closed: return ended(e);
      default: return;
    }
  }
};

// Reads until either side ends the stream; TLS starts here once the stream asked for it.
asio::awaitable<void> read_stream(s2s_connection& c, stream_holder& holder, connection& conn,
                                  const std::function<std::unique_ptr<byte_stream>(asio::ip::tcp::socket)>& upgrade) {
  static thread_local std::array<std::byte, 16384> chunk;  // shared: see byte_stream::read_shared
  while (!c.closed() && !c.out().stopped()) {
    auto [ec, n] = co_await holder.stream->read_shared(chunk);
    if (ec || n == 0) break;
    conn.received(n);
    c.received(std::string_view(reinterpret_cast<const char*>(chunk.data()), n));
    if (!c.wants_tls()) continue;
    co_await c.out().drained();
    if (c.out().stopped()) break;
    auto socket = std::move(holder.stream->socket());
    holder.stream = upgrade(std::move(socket));
    if (auto failed = co_await holder.stream->handshake()) {
      log::throttled(log::level::info, "xmpp s2s tls failure", "xmpp federation {}: TLS handshake failed: {}",
                     conn.peer(), failed.message());
      break;
    }
    c.tls_started();
  }
  if (!c.closed()) c.out().stop();
}

// Until authenticated, s2s_connect_timeout; then an idle stream (nothing sent or received for
// s2s_idle_timeout) is closed politely.
asio::awaitable<void> watch(server& srv, shard& home, s2s_connection& c, bool* timed_out) {
  asio::steady_timer timer(home.context());
  for (;;) {
    const bool authenticated = c.authenticated();
    timer.expires_at(authenticated ? c.times.last + srv.config().s2s_idle_timeout
                                   : c.times.opened + srv.config().s2s_connect_timeout);
    auto [ec] = co_await timer.async_wait(no_throw);
    if (ec || c.out().stopped()) co_return;
    if (authenticated != c.authenticated()) continue;
    const auto now = clock::now();
    if (!authenticated && now >= c.times.opened + srv.config().s2s_connect_timeout) {
      *timed_out = true;
      c.kick("connection-timeout", "no dialback within xmpp.s2s_connect_timeout");
    } else if (authenticated && now >= c.times.last + srv.config().s2s_idle_timeout) {
      c.close_idle();
    } else {
      continue;
    }
    timer.expires_after(std::chrono::seconds(5));
    co_await timer.async_wait(no_throw);
    c.out().stop();
    co_return;
  }
}

asio::awaitable<void> run_incoming(server& srv, shard& home, asio::ip::tcp::socket socket, connection_ticket ticket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(asio::ip::tcp::no_delay{true}, ec);
  const auto context = srv.tls();  // outlives the connection's streams
  stream_holder holder{make_plain_stream(std::move(socket))};
  connection conn{home, std::move(ticket), srv.metrics().s2s_in, "xmpp-s2s-in",
                  peer_text(remote.address(), remote.port()), [&holder] { holder.stream->shutdown(); }};
  conn.set_idle(true);
  incoming_connection c(srv, home, conn, holder);
  const std::function<std::unique_ptr<byte_stream>(asio::ip::tcp::socket)> upgrade =
      [&context](asio::ip::tcp::socket s) { return make_tls_stream(std::move(s), *context); };
  bool timed_out = false;
  co_await ((read_stream(c, holder, conn, upgrade) && c.out().write_loop()) || watch(srv, home, c, &timed_out));
}

// Connects to the first address of `remote`'s server that answers within the time left.
asio::awaitable<bool> connect_to(server& srv, shard& home, const std::string& remote, asio::ip::tcp::socket& socket,
                                 clock::time_point deadline, std::string& why) {
  const auto* routes = &srv.config().s2s_routes;
  const std::string* domain = &remote;
  auto& workers = srv.workers();
  const std::size_t worker = home.index() % workers.size();
  auto addresses = co_await on_worker(workers, worker, [domain, routes] { return s2s_addresses(s2s_targets(*domain, *routes)); });
  if (addresses.empty()) {
    why = "no address found for " + remote;
    co_return false;
  }
  for (const auto& address : addresses) {
    if (clock::now() >= deadline) break;
    socket = asio::ip::tcp::socket(home.context());
    asio::steady_timer timer(home.context());
    timer.expires_at(deadline);
    timer.async_wait([&socket](boost::system::error_code e) {
      if (!e) socket.close();
    });
    auto [error] = co_await socket.async_connect(address, no_throw);
    timer.cancel();
    if (!error && socket.is_open()) co_return true;
    why = "cannot connect to " + address.address().to_string() + ":" + std::to_string(address.port()) + ": " +
          (error ? error.message() : std::string("timed out"));
  }
  if (clock::now() >= deadline) why = "no connection within xmpp.s2s_connect_timeout";
  co_return false;
}

// Takes its arguments by pointer (GCC 12: no owning coroutine parameters): they live in the
// frame of start_s2s_out's spawned wrapper.
asio::awaitable<void> run_outgoing(server& srv, shard& home, const std::string* local, const std::string* remote) {
  const auto opened = clock::now();
  asio::ip::tcp::socket socket(home.context());
  std::string why;
  bool connected = false;
  try {
    connected = co_await connect_to(srv, home, *remote, socket, opened + srv.config().s2s_connect_timeout, why);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!connected) {
    srv.links_here().disconnected(*local, *remote, why, why.find("s2s_connect_timeout") != std::string::npos);
    co_return;
  }
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay{true}, ec);
  const auto peer = socket.remote_endpoint(ec);
  const auto context = srv.tls_client();
  stream_holder holder{make_plain_stream(std::move(socket))};
  bool timed_out = false;
  {
    connection conn{home, connection_ticket{}, srv.metrics().s2s_out, "xmpp-s2s-out",
                    peer_text(peer.address(), peer.port()), [&holder] { holder.stream->shutdown(); }};
    conn.set_idle(true);
    outgoing_connection c(srv, home, conn, holder, *local, *remote);
    c.times.opened = opened;
    const std::function<std::unique_ptr<byte_stream>(asio::ip::tcp::socket)> upgrade =
        [&context, remote](asio::ip::tcp::socket s) { return make_tls_client_stream(std::move(s), *context, *remote); };
    co_await ((read_stream(c, holder, conn, upgrade) && c.out().write_loop()) || watch(srv, home, c, &timed_out));
    why = c.reason().empty() ? "the connection closed" : c.reason();
  }
  if (!home.draining()) srv.links_here().disconnected(*local, *remote, why, timed_out);
}

struct outgoing_names {
  std::string local, remote;
};

asio::awaitable<void> run_outgoing_named(server* srv, shard* home, std::shared_ptr<outgoing_names> names) {
  co_await run_outgoing(*srv, *home, &names->local, &names->remote);
}

}  // namespace

void start_s2s_in_session(server& srv, shard& home, asio::ip::tcp::socket socket, connection_ticket ticket) {
  asio::co_spawn(home.context(), run_incoming(srv, home, std::move(socket), std::move(ticket)),
                 log_failure{"xmpp s2s stream"});
}

void start_s2s_out(server& srv, shard& home, const std::string& local, const std::string& remote) {
  auto names = std::make_shared<outgoing_names>(outgoing_names{local, remote});
  asio::co_spawn(home.context(), run_outgoing_named(&srv, &home, std::move(names)), log_failure{"xmpp s2s link"});
}

}  // namespace junction::xmpp
