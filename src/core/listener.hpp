#pragma once
// Listening sockets, one per shard on the same address (SO_REUSEPORT): the kernel spreads new
// connections and datagrams across the shards, and each shard accepts on its own socket.
#include "core/connection.hpp"
#include "core/endpoint.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include <functional>
#include <string>

namespace junction {

class runtime;
class shard;

// Starts a session for an accepted socket, on the shard that accepted it.
using tcp_session_start =
    std::function<void(shard&, boost::asio::ip::tcp::socket, connection_ticket)>;
using udp_socket_start = std::function<void(shard&, boost::asio::ip::udp::socket)>;

struct tcp_listen_options {
  int backlog = 1024;
};

// Binds one acceptor per shard on `where` and accepts there once the runtime runs. Connections
// past the runtime's limit are closed at once and counted as refused. Returns the bound endpoint
// (with the port the kernel chose when `where` has port 0). Throws boost::system::system_error
// when the address cannot be bound.
boost::asio::ip::tcp::endpoint listen_tcp(runtime& rt, const listen_address& where,
                                          const connection_metrics& metrics,
                                          tcp_session_start start,
                                          const tcp_listen_options& options = {});

// A port number free for both TCP and UDP on `host`, held until this object goes: for protocols
// that listen on both with one number (SIP) when the configuration asks for any port (0). The
// holding sockets use SO_REUSEPORT, so this process's listeners can join the port meanwhile.
class dual_port_reservation {
 public:
  dual_port_reservation(boost::asio::io_context& context, const std::string& host);
  std::uint16_t port() const noexcept { return port_; }

 private:
  boost::asio::ip::tcp::socket tcp_;
  boost::asio::ip::udp::socket udp_;
  std::uint16_t port_ = 0;
};

// Binds one UDP socket per shard on `where` and hands each to `start` on its shard.
boost::asio::ip::udp::endpoint listen_udp(runtime& rt, const listen_address& where,
                                          udp_socket_start start);

}  // namespace junction
