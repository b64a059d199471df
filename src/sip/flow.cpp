#include "sip/flow.hpp"

#include <algorithm>

namespace junction::sip {

std::string_view transport_name(transport t) noexcept {
  switch (t) {
    case transport::udp: return "UDP";
    case transport::tcp: return "TCP";
    case transport::tls: return "TLS";
    case transport::ws: return "WS";
    case transport::wss: return "WSS";
  }
  return "UDP";
}

std::string_view transport_token(transport t) noexcept {
  switch (t) {
    case transport::udp: return "udp";
    case transport::tcp: return "tcp";
    case transport::tls: return "tls";
    case transport::ws: return "ws";
    case transport::wss: return "wss";
  }
  return "udp";
}

std::optional<transport> transport_from_token(std::string_view token) noexcept {
  for (auto t : {transport::udp, transport::tcp, transport::tls, transport::ws, transport::wss}) {
    const auto name = transport_token(t);
    if (token.size() == name.size() &&
        std::equal(token.begin(), token.end(), name.begin(), [](char a, char b) { return (a | 0x20) == b; }))
      return t;
  }
  return std::nullopt;
}

flow::flow(shard& home, std::uint64_t id, transport kind, write_fn write, std::function<void()> close,
           std::size_t max_queued)
    : write_queue(home, "sip flow " + std::to_string(id), std::move(write), std::move(close), max_queued),
      id_(id), kind_(kind) {}

}  // namespace junction::sip
