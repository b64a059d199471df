#pragma once
// Starts an HTTP session on an accepted socket: plain, or TLS after a handshake. The session
// serves requests until the peer closes, a timeout fires, or the shard drains.
#include "core/connection.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace junction {
class shard;
}

namespace junction::http {

class server;

void start_plain_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket,
                         connection_ticket ticket);
void start_tls_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket,
                       connection_ticket ticket);

}  // namespace junction::http
