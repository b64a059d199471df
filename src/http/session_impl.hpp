#pragma once
// The HTTP session loop, written once for any stream (plain TCP or TLS) and instantiated in
// session_plain.cpp and session_tls.cpp, so each of those compiles in parallel and a change to
// one does not rebuild the other. Include only from those two files.
#include "core/connection.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "http/transfer_coding.hpp"
#include "http/websocket.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <sys/socket.h>

#include <chrono>
#include <optional>

namespace junction::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

// Closing from outside the session (drain, kick, a SIP flow over WebSocket): shut the socket down
// so that whatever the session awaits completes, and the session ends through its normal path.
// Asked of the stream (which outlives the connection record), never of a descriptor number kept
// from the accept: Beast closes the socket itself on a timeout, and the number may belong to
// another connection by then.
template <class Stream>
std::function<void()> shutdown_closer(Stream& stream) {
  return [&stream] {
    auto& socket = beast::get_lowest_layer(stream).socket();
    if (socket.is_open()) ::shutdown(socket.native_handle(), SHUT_RDWR);
  };
}

template <class Stream>
class ws_channel final : public websocket_channel {
 public:
  ws_channel(websocket::stream<Stream&>& ws, std::string subprotocol, connection& conn)
      : ws_{ws}, subprotocol_{std::move(subprotocol)}, conn_{conn} {}

  asio::awaitable<boost::system::error_code> read(ws_message& out) override {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws_.async_read(buffer, no_throw);
    if (ec) co_return ec;
    conn_.received(n);
    out.data = beast::buffers_to_string(buffer.data());
    out.text = ws_.got_text();
    co_return ec;
  }
  asio::awaitable<boost::system::error_code> write(std::string_view data, bool text) override {
    ws_.text(text);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(data.data(), data.size()), no_throw);
    conn_.sent(n);
    co_return ec;
  }
  asio::awaitable<void> close(std::uint16_t code, std::string_view reason) override {
    co_await ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason), no_throw);
  }
  const std::string& subprotocol() const override { return subprotocol_; }
  junction::connection& conn() override { return conn_; }

 private:
  websocket::stream<Stream&>& ws_;
  std::string subprotocol_;
  connection& conn_;
};

template <class Stream>
class http_session {
 public:
  http_session(server& srv, Stream& stream, connection& conn, asio::ip::address peer)
      : srv_{srv}, cfg_{srv.config()}, stream_{stream}, conn_{conn}, peer_{std::move(peer)} {}

  asio::awaitable<void> run();

 private:
  asio::awaitable<bool> wait_for_request(bool first);
  asio::awaitable<void> refuse(const boost::system::error_code& ec, std::string_view why = {},
                               status code = status::unknown);
  asio::awaitable<reply> respond_to(request& req);
  asio::awaitable<void> upgrade(request& req, const websocket_route& route);
  void count(unsigned status_code);
  void log_access(const request& req, unsigned status_code, std::uint64_t bytes,
                  std::chrono::steady_clock::time_point start);
  asio::awaitable<void> close();
  asio::awaitable<void> stream_body(const stream_function& body);

  server& srv_;
  const http_config& cfg_;
  Stream& stream_;
  connection& conn_;
  asio::ip::address peer_;
  beast::flat_buffer buffer_;
};

template <class Stream>
asio::awaitable<void> http_session<Stream>::run() {
  for (bool first = true;; first = false) {
    if (!co_await wait_for_request(first)) break;
    beast::http::request_parser<beast::http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(cfg_.header_limit));
    // The header is read under the largest limit any route has; the request's own is set once
    // its route is known (below).
    parser.body_limit(std::max<std::uint64_t>(cfg_.body_limit, srv_.routes().largest_body_limit()));
    // The whole header must arrive within header_timeout: a client that sends a byte a minute
    // is cut off there, however patient its trickle.
    beast::get_lowest_layer(stream_).expires_after(cfg_.header_timeout);
    auto [ec, n] = co_await beast::http::async_read_header(stream_, buffer_, parser, no_throw);
    conn_.received(n);
    if (ec) {
      co_await refuse(ec);
      co_return;
    }
    if (!parser.is_done()) {
      // A body comes: its route's own limit (file uploads take more), else http.body_limit. A
      // declared length over it is refused now; a chunked body as it arrives.
      std::uint64_t limit = cfg_.body_limit;
      std::string_view target = parser.get().target();
      if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
      if (const route* r = srv_.routes().match(target); r && r->body_limit) limit = r->body_limit;
      if (const auto length = parser.content_length(); length && *length > limit) {
        co_await refuse(beast::http::error::body_limit);
        co_return;
      }
      parser.body_limit(limit);
    }
    if (auto coding = unusable_transfer_coding(parser.get())) {
      co_await refuse(beast::http::error::bad_transfer_encoding, coding->why, coding->code);
      co_return;
    }
    if (parser.get()[field::expect] == "100-continue" && !parser.is_done()) {
      beast::http::response<beast::http::empty_body> go_on{status::continue_, 11};
      auto [wec, wn] = co_await beast::http::async_write(stream_, go_on, no_throw);
      conn_.sent(wn);
      if (wec) co_return;
    }
    if (!parser.is_done()) {
      beast::get_lowest_layer(stream_).expires_after(cfg_.idle_timeout);
      auto [bec, bn] = co_await beast::http::async_read(stream_, buffer_, parser, no_throw);
      conn_.received(bn);
      if (bec) {
        co_await refuse(bec);
        co_return;
      }
    }
    request req = parser.release();
    if (req.version() >= 11 && req.find(field::host) == req.end()) {
      // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400.
      co_await refuse(beast::http::error::bad_value, "HTTP/1.1 request without Host");
      co_return;
    }
    if (websocket::is_upgrade(req)) {
      if (const auto* route = srv_.websockets().match(req.target())) {
        co_await upgrade(req, *route);
        co_return;
      }
    }
    auto start = std::chrono::steady_clock::now();
    reply rep = co_await respond_to(req);
    auto code = rep.status_code;
    auto body_bytes = rep.body_bytes;
    bool keep_alive = rep.keep_alive;
    // A client that stops reading is cut off after idle_timeout, not kept forever.
    beast::get_lowest_layer(stream_).expires_after(cfg_.idle_timeout);
    auto [wec, wn] = co_await beast::async_write(stream_, std::move(rep.message), no_throw);
    conn_.sent(wn);
    count(code);
    log_access(req, code, body_bytes, start);
    if (wec) {
      if (wec == beast::error::timeout) conn_.count_timeout();
      co_return;
    }
    if (rep.stream) {
      co_await stream_body(rep.stream);
      co_return;
    }
    if (!keep_alive) break;
  }
  co_await close();
}

// A response body that streams until either side closes (see body_stream).
template <class Stream>
class streaming_body final : public body_stream {
 public:
  streaming_body(Stream& stream, connection& conn) : stream_{stream}, conn_{conn} {}

  asio::awaitable<boost::system::error_code> write(std::span<const shared_buffer> buffers) override {
    gather_.clear();
    for (const auto& b : buffers) gather_.emplace_back(b.data(), b.size());
    auto [ec, n] = co_await asio::async_write(stream_, gather_, no_throw);
    conn_.sent(n);
    co_return ec;
  }
  asio::awaitable<void> closed_by_peer() override {
    std::array<char, 512> sink;
    for (;;) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), no_throw);
      conn_.received(n);
      if (ec) co_return;
    }
  }
  void close() override {
    auto& socket = beast::get_lowest_layer(stream_).socket();
    if (socket.is_open()) ::shutdown(socket.native_handle(), SHUT_RDWR);
  }
  connection& conn() override { return conn_; }

 private:
  Stream& stream_;
  connection& conn_;
  std::vector<asio::const_buffer> gather_;
};

template <class Stream>
asio::awaitable<void> http_session<Stream>::stream_body(const stream_function& body) {
  // The stream's own send deadline (the sink's) replaces the per-request timer.
  beast::get_lowest_layer(stream_).expires_never();
  streaming_body<Stream> channel{stream_, conn_};
  try {
    co_await body(channel);
  } catch (const std::exception& e) {
    log::error("http conn={} streaming response failed: {}", conn_.id(), e.what());
  }
  co_await close();
}

// Waits, idle, for the first byte of the next request. False: the connection is done.
template <class Stream>
asio::awaitable<bool> http_session<Stream>::wait_for_request(bool first) {
  conn_.set_idle(true);
  if (conn_.home().draining()) co_return false;
  if (buffer_.size() == 0) {
    beast::get_lowest_layer(stream_).expires_after(first ? cfg_.header_timeout
                                                         : cfg_.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(16 * 1024), no_throw);
    if (ec) {
      if (ec == beast::error::timeout) conn_.count_timeout();
      co_return false;
    }
    buffer_.commit(n);
  }
  conn_.set_idle(false);
  co_return true;
}

// A request that could not be read: answer what the reason deserves, then the caller closes.
template <class Stream>
asio::awaitable<void> http_session<Stream>::refuse(const boost::system::error_code& ec,
                                                   std::string_view why, status code) {
  using herr = beast::http::error;
  if (code != status::unknown) {
  } else if (ec == herr::header_limit) code = status::request_header_fields_too_large;
  else if (ec == herr::body_limit) code = status::payload_too_large;
  else if (ec == beast::error::timeout) {
    conn_.count_timeout();
    log::debug("http conn={} {}: timed out reading a request", conn_.id(), conn_.peer());
    co_return;
  } else if (ec == herr::end_of_stream || ec == herr::partial_message ||
             ec.category() != beast::http::make_error_code(herr::bad_target).category())
    co_return;  // the peer went away (or the socket failed): nobody to answer
  else code = status::bad_request;
  conn_.count_error();
  auto reason = why.empty() ? ec.message() : std::string{why};
  log::throttled(log::level::info, "http refusal", "http conn={} {}: {} ({})", conn_.id(), conn_.peer(),
                 static_cast<unsigned>(code), reason);
  beast::http::response<beast::http::string_body> r{
      code, 11,
      fmt::format("{} {}: {}\n", static_cast<unsigned>(code), beast::http::obsolete_reason(code),
                  reason)};
  r.set(field::content_type, "text/plain; charset=utf-8");
  r.set(field::server, server_header);
  r.keep_alive(false);
  r.prepare_payload();
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
  auto [wec, wn] = co_await beast::http::async_write(stream_, r, no_throw);
  conn_.sent(wn);
  count(static_cast<unsigned>(code));
  co_await close();
}

template <class Stream>
asio::awaitable<reply> http_session<Stream>::respond_to(request& req) {
  request_context ctx{req, peer_, conn_, srv_};
  std::optional<reply> rep;
  try {
    auto routed = srv_.route(ctx);
    if (auto* ready = std::get_if<reply>(&routed)) rep.emplace(std::move(*ready));
    else rep.emplace(co_await (*std::get<const async_handler*>(routed))(ctx));
  } catch (const std::exception& e) {
    // Control-plane failures stop here: the client gets a 500, the log gets the reason.
    log::error("http conn={} {} {}: handler failed: {}", conn_.id(), req.method_string(),
               req.target(), e.what());
  }
  if (!rep) rep.emplace(ctx.problem(status::internal_server_error));
  co_return std::move(*rep);
}

template <class Stream>
asio::awaitable<void> http_session<Stream>::upgrade(request& req, const websocket_route& route) {
  auto start = std::chrono::steady_clock::now();
  if (!route.subprotocol.empty() &&
      !offers_subprotocol(req[field::sec_websocket_protocol], route.subprotocol)) {
    request_context ctx{req, peer_, conn_, srv_};
    auto rep = ctx.problem(status::bad_request,
                           "this WebSocket endpoint needs subprotocol " + route.subprotocol);
    rep.keep_alive = false;
    auto [wec, wn] = co_await beast::async_write(stream_, std::move(rep.message), no_throw);
    conn_.sent(wn);
    count(400);
    log_access(req, 400, 0, start);
    co_return;
  }
  websocket::stream<Stream&> ws{stream_};
  // The WebSocket layer keeps its own timers (and pings an idle peer); the TCP stream's must not
  // also fire.
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout timeouts{cfg_.header_timeout, cfg_.idle_timeout, true};
  ws.set_option(timeouts);
  ws.read_message_max(cfg_.websocket_message_limit);
  ws.set_option(websocket::stream_base::decorator(
      [protocol = route.subprotocol](websocket::response_type& res) {
        res.set(field::server, server_header);
        if (!protocol.empty()) res.set(field::sec_websocket_protocol, protocol);
      }));
  auto [ec] = co_await ws.async_accept(req, no_throw);
  count(ec ? 400 : 101);
  log_access(req, ec ? 400 : 101, 0, start);
  if (ec) {
    conn_.count_error();
    co_return;
  }
  conn_.home().metrics().add(srv_.metrics().websocket_sessions);
  conn_.set_idle(false);
  ws_channel<Stream> channel{ws, route.subprotocol, conn_};
  co_await route.handler(channel);
  if (ws.is_open()) co_await ws.async_close(websocket::close_code::going_away, no_throw);
}

template <class Stream>
void http_session<Stream>::count(unsigned status_code) {
  auto index = std::min<unsigned>(status_code / 100, 5);
  conn_.home().metrics().add(srv_.metrics().responses[index]);
}

template <class Stream>
void http_session<Stream>::log_access(const request& req, unsigned status_code,
                                      std::uint64_t bytes,
                                      std::chrono::steady_clock::time_point start) {
  if (!log::access_enabled()) return;
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  log::access(fmt::format("{} \"{} {} HTTP/{}.{}\" {} {} {:.3f}ms conn={}", conn_.peer(),
                          std::string_view{req.method_string()}, std::string_view{req.target()},
                          req.version() / 10, req.version() % 10, status_code, bytes,
                          took.count(), conn_.id()));
}

}  // namespace junction::http::detail
