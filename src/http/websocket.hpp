#pragma once
// WebSocket plumbing for the protocols that run over it (SIP RFC 7118, XMPP RFC 7395): a handler
// registers a path and an optional subprotocol, and gets a channel that reads and writes whole
// messages, the same over ws:// and wss://. The Beast stream types stay in the session files.
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace junction {
class connection;
}

namespace junction::http {

struct ws_message {
  std::string data;
  bool text = true;
};

class websocket_channel {
 public:
  virtual ~websocket_channel() = default;
  // Reads one whole message. An error (closed, timed out, too large) ends the channel.
  virtual boost::asio::awaitable<boost::system::error_code> read(ws_message& out) = 0;
  virtual boost::asio::awaitable<boost::system::error_code> write(std::string_view data,
                                                                  bool text) = 0;
  virtual boost::asio::awaitable<void> close(std::uint16_t code, std::string_view reason) = 0;
  virtual const std::string& subprotocol() const = 0;
  virtual junction::connection& conn() = 0;
};

using websocket_handler = std::function<boost::asio::awaitable<void>(websocket_channel&)>;

struct websocket_route {
  std::string path;
  std::string subprotocol;  // empty: none required; else the client must offer it
  websocket_handler handler;
};

class websocket_routes {
 public:
  void add(websocket_route r) { routes_.push_back(std::move(r)); }
  const websocket_route* match(std::string_view path) const {
    for (const auto& r : routes_)
      if (r.path == path) return &r;
    return nullptr;
  }

 private:
  std::vector<websocket_route> routes_;
};

// True when the Sec-WebSocket-Protocol list `offered` contains `wanted` (case-sensitive, as
// RFC 6455 §4.1 says subprotocol names are).
bool offers_subprotocol(std::string_view offered, std::string_view wanted);

// Echoes every message back: a diagnostic endpoint (http.websocket_echo) that proves the
// plumbing end to end with any WebSocket client.
boost::asio::awaitable<void> echo_handler(websocket_channel& channel);

}  // namespace junction::http
