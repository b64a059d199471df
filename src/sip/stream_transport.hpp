#pragma once
// SIP over TCP and TLS (RFC 3261 §18.3) and over WebSocket (RFC 7118): each connection is a
// flow of its shard's service. Streams are cut into messages by `find_message` (Content-Length
// framing, RFC 5626 CRLF keepalives answered); a WebSocket message is one SIP message.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>

namespace junction {
class shard;
class connection_ticket;
}
namespace junction::http {
class websocket_channel;
}

namespace junction::sip {

class server;

void start_stream_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket,
                          connection_ticket ticket, bool tls, std::size_t listen_index);

// The handler behind `sip.websocket` (path /sip, subprotocol "sip").
boost::asio::awaitable<void> run_websocket_session(server& srv, http::websocket_channel& channel);

}  // namespace junction::sip
