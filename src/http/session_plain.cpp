#include "http/session.hpp"
#include "http/session_impl.hpp"

#include "core/spawn.hpp"

#include <boost/asio/co_spawn.hpp>

namespace junction::http {
namespace detail {

template <>
asio::awaitable<void> http_session<beast::tcp_stream>::close() {
  // Half-close so the client reads the whole last response before it sees the end.
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  co_return;
}

template class http_session<beast::tcp_stream>;

asio::awaitable<void> plain_session(server& srv, shard& home, asio::ip::tcp::socket socket,
                                    connection_ticket ticket) {
  asio::ip::address address;
  auto peer = peer_of(socket, address);
  beast::tcp_stream stream{std::move(socket)};
  auto closer = shutdown_closer(stream);
  connection conn{home, std::move(ticket), srv.metrics().plain, "http", std::move(peer),
                  std::move(closer)};
  http_session<beast::tcp_stream> session{srv, stream, conn, address};
  co_await session.run();
}

}  // namespace detail

void start_plain_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket,
                         connection_ticket ticket) {
  boost::asio::co_spawn(home.context(),
                        detail::plain_session(srv, home, std::move(socket), std::move(ticket)),
                        log_failure{"http session"});
}

}  // namespace junction::http
