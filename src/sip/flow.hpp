#pragma once
// A flow (RFC 5626's word): one connection a SIP peer keeps open to this server, over TCP, TLS
// or WebSocket. Requests for a user registered over it, and responses to requests that came on
// it, are written back on it, through its write queue (core/write_queue.hpp).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/write_queue.hpp"

namespace junction::sip {

enum class transport : std::uint8_t { udp, tcp, tls, ws, wss };
std::string_view transport_name(transport t) noexcept;   // "UDP", "TCP", ... as Via writes them
std::string_view transport_token(transport t) noexcept;  // "udp", "tcp", ... as logs and bindings
// The transport a token names ("tcp", "WSS": any case, as a URI's transport= may write it).
std::optional<transport> transport_from_token(std::string_view token) noexcept;
inline bool reliable(transport t) noexcept { return t != transport::udp; }

class flow : public write_queue {
 public:
  flow(shard& home, std::uint64_t id, transport kind, write_fn write, std::function<void()> close,
       std::size_t max_queued);

  std::uint64_t id() const noexcept { return id_; }
  transport kind() const noexcept { return kind_; }

 private:
  std::uint64_t id_;
  transport kind_;
};

}  // namespace junction::sip
