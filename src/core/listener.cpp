#include "core/listener.hpp"

#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <memory>

namespace junction {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

namespace {

asio::awaitable<void> accept_loop(shard& home, std::shared_ptr<tcp::acceptor> acceptor,
                                  const connection_metrics& metrics, tcp_session_start start) {
  auto& limit = home.owner().limit();
  auto& sources = home.owner().source_limits();
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec) {
      // EMFILE/ENFILE and friends: log, back off a little so the loop does not spin.
      log::warn("accept on {}: {}", acceptor->local_endpoint(ec).port(), ec.message());
      asio::steady_timer pause{home.context(), std::chrono::milliseconds(50)};
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    boost::system::error_code ignored;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) {  // gone already
      socket.close(ignored);
      continue;
    }
    auto slot = sources.try_acquire(peer.address());
    if (!slot) {
      home.metrics().add(metrics.refused);
      log::throttled(log::level::warn, "per-source connection limit",
                     "{} holds server.max_connections_per_source ({}) connections; refusing more",
                     peer.address().to_string(), sources.max());
      socket.close(ignored);
      continue;
    }
    if (!limit.try_acquire()) {
      sources.release(*slot);
      home.metrics().add(metrics.refused);
      log::throttled(log::level::warn, "connection limit", "server.max_connections ({}) reached; refusing a connection",
                     limit.max());
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    start(home, std::move(socket), connection_ticket{&limit, &sources, *slot});
  }
}

template <class Socket>
void bind_reusable(Socket& socket, const typename Socket::endpoint_type& where) {
  socket.open(where.protocol());
  socket.set_option(asio::socket_base::reuse_address(true));
  socket.set_option(reuse_port(true));
  socket.bind(where);
}

}  // namespace

tcp::endpoint listen_tcp(runtime& rt, const listen_address& where,
                         const connection_metrics& metrics, tcp_session_start start,
                         const tcp_listen_options& options) {
  tcp::endpoint bound{asio::ip::make_address(where.host), where.port};
  rt.claim_listen_address("tcp", bound.address().to_string(), where.port);
  for (unsigned i = 0; i < rt.size(); ++i) {
    auto& home = rt.at(i);
    auto acceptor = std::make_shared<tcp::acceptor>(home.context());
    // The first shard may ask the kernel for a port; the others join that same port.
    bind_reusable(*acceptor, bound);
    acceptor->listen(options.backlog);
    bound = acceptor->local_endpoint();
    home.on_drain([acceptor] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
    asio::co_spawn(home.context(), accept_loop(home, acceptor, metrics, start),
                   log_failure{"accept loop"});
  }
  return bound;
}

dual_port_reservation::dual_port_reservation(asio::io_context& context, const std::string& host)
    : tcp_(context), udp_(context) {
  const auto address = asio::ip::make_address(host);
  // The kernel picks a free TCP port; the UDP side of that number may be taken (by an
  // ephemeral client socket, say), so try again with another. Bounded: 64 tries.
  for (int attempt = 0; attempt < 64; ++attempt) {
    boost::system::error_code ignored;
    tcp_.close(ignored);
    udp_.close(ignored);
    bind_reusable(tcp_, tcp::endpoint{address, 0});
    port_ = tcp_.local_endpoint().port();
    try {
      bind_reusable(udp_, udp::endpoint{address, port_});
      return;
    } catch (const boost::system::system_error&) {
    }
  }
  throw boost::system::system_error(asio::error::address_in_use);
}

udp::endpoint listen_udp(runtime& rt, const listen_address& where, udp_socket_start start) {
  udp::endpoint bound{asio::ip::make_address(where.host), where.port};
  rt.claim_listen_address("udp", bound.address().to_string(), where.port);
  for (unsigned i = 0; i < rt.size(); ++i) {
    auto& home = rt.at(i);
    udp::socket socket{home.context()};
    bind_reusable(socket, bound);
    bound = socket.local_endpoint();
    rt.post(i, [&home, start, socket = std::move(socket)]() mutable {
      start(home, std::move(socket));
    });
  }
  return bound;
}

}  // namespace junction
