#include "http/session.hpp"
#include "http/session_impl.hpp"

#include "core/spawn.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace junction::http {
namespace detail {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

template <>
asio::awaitable<void> http_session<tls_stream>::close() {
  // A TLS close_notify, bounded so a peer that never answers cannot hold the connection.
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(3));
  co_await stream_.async_shutdown(no_throw);
}

template class http_session<tls_stream>;

asio::awaitable<void> tls_session(server& srv, shard& home, asio::ip::tcp::socket socket,
                                  connection_ticket ticket) {
  asio::ip::address address;
  auto peer = peer_of(socket, address);
  const auto settings = srv.settings();  // its TLS context lives as long as the connection
  tls_stream stream{std::move(socket), *settings->tls};
  auto closer = shutdown_closer(stream);
  connection conn{home, std::move(ticket), srv.metrics().tls, "https", std::move(peer),
                  std::move(closer)};
  beast::get_lowest_layer(stream).expires_after(srv.config().header_timeout);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, no_throw);
  if (ec) {
    if (ec == beast::error::timeout) conn.count_timeout();
    else conn.count_error();
    log::debug("https conn={} {}: TLS handshake failed: {}", conn.id(), conn.peer(),
               ec.message());
    co_return;
  }
  http_session<tls_stream> session{srv, stream, conn, address};
  co_await session.run();
}

}  // namespace detail

void start_tls_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket,
                       connection_ticket ticket) {
  boost::asio::co_spawn(home.context(),
                        detail::tls_session(srv, home, std::move(socket), std::move(ticket)),
                        log_failure{"https session"});
}

}  // namespace junction::http
