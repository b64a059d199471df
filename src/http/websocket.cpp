#include "http/websocket.hpp"

namespace junction::http {

bool offers_subprotocol(std::string_view offered, std::string_view wanted) {
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto item = offered.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == wanted) return true;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return false;
}

boost::asio::awaitable<void> echo_handler(websocket_channel& channel) {
  ws_message message;
  while (!co_await channel.read(message))
    if (co_await channel.write(message.data, message.text)) break;
}

}  // namespace junction::http
