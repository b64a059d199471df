#include "sip/stream_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <optional>

#include "core/byte_stream.hpp"
#include "core/connection.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/spawn.hpp"
#include "http/websocket.hpp"
#include "sip/server.hpp"
#include "sip/shard_service.hpp"
#include "sip/stream_framer.hpp"

namespace junction::sip {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_queued_bytes = 1 << 20;  // a peer that reads nothing is closed at this

// Reads, cuts messages, hands them to the service; ends on EOF, an error or bytes that cannot
// be framed (after which nothing on the stream can be trusted).
// What the watchdog watches: when bytes last came, and since when part of a message waits.
struct read_times {
  clock::time_point opened = clock::now();
  clock::time_point last_read = opened;
  std::optional<clock::time_point> partial_since;
  std::size_t messages = 0;  // complete SIP messages so far (keepalives are not messages)
};

asio::awaitable<void> read_messages(server& srv, shard_service& service, byte_stream& stream,
                                    connection& conn, flow& f, const origin& from, read_times& times) {
  std::string buffer;
  std::array<std::byte, 16384> chunk;
  for (;;) {
    auto [ec, n] = co_await stream.read_some(chunk);
    if (ec || n == 0) break;
    conn.received(n);
    times.last_read = clock::now();
    buffer.append(reinterpret_cast<const char*>(chunk.data()), n);
    std::size_t used = 0;
    for (;;) {
      frame fr = find_message(std::string_view(buffer).substr(used), srv.limits());
      if (fr.what == frame::kind::need_more) break;
      if (fr.what == frame::kind::error) {
        log::info("sip {}: {}: closing the connection", describe(from), fr.reason);
        conn.home().metrics().add(srv.metrics().bad_messages);
        f.stop();
        co_return;
      }
      if (fr.what == frame::kind::ping) f.send("\r\n");  // RFC 5626 §4.4.1: the pong
      if (fr.what == frame::kind::message) {
        ++times.messages;
        service.on_stream_message(std::string_view(buffer).substr(used, fr.size), from);
      }
      used += fr.size;
    }
    buffer.erase(0, used);
    // A lone CRLF (a keepalive that may yet become a ping) is not half a message.
    if (buffer.find_first_not_of("\r\n") == std::string::npos) times.partial_since.reset();
    else if (!times.partial_since) times.partial_since = times.last_read;
  }
  f.stop();
}

// A flow is known to its shard's service exactly as long as it lives, however its session ends
// (an exception from a handler included): the service never keeps a pointer to a gone flow.
class flow_registration {
 public:
  flow_registration(shard_service& service, flow& f) : service_{service}, flow_{f} { service_.add_flow(flow_); }
  ~flow_registration() {
    flow_.stop();
    service_.remove_flow(flow_.id());
  }
  flow_registration(const flow_registration&) = delete;
  flow_registration& operator=(const flow_registration&) = delete;

 private:
  shard_service& service_;
  flow& flow_;
};

// Closes a connection that has been silent for sip.tcp_idle_timeout (a phone keeping its flow
// alive sends a CRLF ping well within that, RFC 5626 §4.4.1), or that has left a message
// unfinished for sip.tcp_message_timeout (a peer sending half a message and stalling, or
// dripping it byte by byte, holds nothing for longer than that).
asio::awaitable<void> watch_idle(server& srv, shard& home, flow& f, const read_times& times, const origin& from,
                                 metric_id timeouts) {
  const auto idle = srv.config().tcp_idle_timeout;
  const auto unfinished = srv.config().tcp_message_timeout;
  const auto first = srv.config().tcp_first_message_timeout;
  asio::steady_timer timer(home.context());
  const auto tick = std::clamp<std::chrono::milliseconds>(std::min({idle, unfinished, first}) / 8,
                                                          std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (;;) {
    timer.expires_after(tick);
    auto [ec] = co_await timer.async_wait(no_throw);
    if (ec || f.stopped()) co_return;
    const auto now = clock::now();
    // A connection is for SIP: one that has sent no whole message soon after it opened (an
    // idle socket held to exhaust the server's connections) is closed long before the idle
    // timeout a registered phone's flow gets.
    const char* why = now - times.last_read > idle ? "nothing received in sip.tcp_idle_timeout"
                      : times.partial_since && now - *times.partial_since > unfinished
                          ? "a message left unfinished for sip.tcp_message_timeout"
                      : times.messages == 0 && now - times.opened > first
                          ? "no complete message within sip.tcp_first_message_timeout"
                      : f.writing_since() && now - *f.writing_since() > unfinished
                          ? "a write not taken by the peer within sip.tcp_message_timeout"
                          : nullptr;
    if (why) {
      log::throttled(log::level::info, "sip stream timeout", "sip {}: {}: closing", describe(from), why);
      home.metrics().add(timeouts);
      f.stop();
      co_return;
    }
  }
}

asio::awaitable<void> run_stream(server& srv, shard& home, asio::ip::tcp::socket socket,
                                 connection_ticket ticket, bool tls, std::size_t index) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  socket.set_option(asio::ip::tcp::no_delay{true}, ec);
  const auto context = tls ? srv.tls() : nullptr;  // outlives the connection's stream
  auto stream = tls ? make_tls_stream(std::move(socket), *context) : make_plain_stream(std::move(socket));
  auto* raw = stream.get();
  connection conn{home, std::move(ticket), tls ? srv.metrics().tls : srv.metrics().tcp, tls ? "sips" : "sip",
                  peer_text(remote.address(), remote.port()), [raw] { raw->shutdown(); }};
  conn.set_idle(true);  // a flow may stay open for hours: draining closes it at once
  read_times times;
  if (tls) {
    // A TLS handshake must finish within sip.tcp_first_message_timeout, like the first message
    // after it: a peer that opens connections and stalls in the handshake holds them no longer.
    // The guard's state outlives this frame: its handler may already be queued when the
    // handshake ends, and then must touch neither the stream nor the frame.
    struct guard_state {
      bool done = false, expired = false;
    };
    auto state = std::make_shared<guard_state>();
    asio::steady_timer guard(home.context());
    guard.expires_after(srv.config().tcp_first_message_timeout);
    guard.async_wait([raw, state](boost::system::error_code ec) {
      if (ec || state->done) return;
      state->expired = true;
      raw->shutdown();
    });
    auto failed = co_await stream->handshake();
    state->done = true;
    guard.cancel();
    const bool expired = state->expired;
    if (failed || expired) {
      if (expired) home.metrics().add(srv.metrics().tls.timeouts);
      log::throttled(log::level::info, "sip tls handshake failure", "sip tls {}: handshake failed: {}", conn.peer(),
                     expired ? "not finished within sip.tcp_first_message_timeout" : failed.message());
      co_return;
    }
  }
  auto& service = srv.service(home.index());
  flow f{home, conn.id(), tls ? transport::tls : transport::tcp,
         [raw, &conn](std::string_view bytes) -> asio::awaitable<boost::system::error_code> {
           asio::const_buffer b(bytes.data(), bytes.size());
           auto [error, n] = co_await raw->write(std::span<const asio::const_buffer>(&b, 1));
           conn.sent(n);
           co_return error;
         },
         [raw] { raw->shutdown(); }, max_queued_bytes};
  flow_registration registered{service, f};
  origin from{f.kind(), index, asio::ip::udp::endpoint(remote.address(), remote.port()), conn.id()};
  // The watchdog ends with the flow (`||` cancels it), or ends the flow when it goes quiet.
  co_await ((read_messages(srv, service, *raw, conn, f, from, times) && f.write_loop()) ||
            watch_idle(srv, home, f, times, from, tls ? srv.metrics().tls.timeouts : srv.metrics().tcp.timeouts));
}

}  // namespace

void start_stream_session(server& srv, shard& home, asio::ip::tcp::socket socket,
                          connection_ticket ticket, bool tls, std::size_t listen_index) {
  asio::co_spawn(home.context(), run_stream(srv, home, std::move(socket), std::move(ticket), tls, listen_index),
                 log_failure{"sip stream session"});
}

asio::awaitable<void> run_websocket_session(server& srv, http::websocket_channel& channel) {
  connection& conn = channel.conn();
  shard& home = conn.home();
  auto& service = srv.service(home.index());
  const bool secure = conn.protocol() == "https";
  flow f{home, conn.id(), secure ? transport::wss : transport::ws,
         [&channel](std::string_view bytes) -> asio::awaitable<boost::system::error_code> {
           co_return co_await channel.write(bytes, true);
         },
         [&conn] { conn.close(); }, max_queued_bytes};
  flow_registration registered{service, f};
  // The HTTP connection knows its peer as "address:port".
  asio::ip::udp::endpoint peer;
  if (auto colon = conn.peer().rfind(':'); colon != std::string::npos) {
    boost::system::error_code ec;
    std::string host = conn.peer().substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    auto address = asio::ip::make_address(host, ec);
    if (!ec) peer = asio::ip::udp::endpoint(address, static_cast<std::uint16_t>(std::stoi(conn.peer().substr(colon + 1))));
  }
  origin from{f.kind(), 0, peer, conn.id()};
  auto reader = [&]() -> asio::awaitable<void> {
    http::ws_message m;
    while (!f.stopped()) {
      if (co_await channel.read(m)) break;
      service.on_websocket_message(m.data, from);
    }
    f.stop();
  };
  co_await (reader() && f.write_loop());
}

}  // namespace junction::sip
