#pragma once
// Starts the session of one accepted RTMP or RTMPS connection on its shard.
#include "core/connection.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace junction {
class shard;
}

namespace junction::rtmp {

class server;

void start_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket,
                   connection_ticket ticket, bool tls);

}  // namespace junction::rtmp
