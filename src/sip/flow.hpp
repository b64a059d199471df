#pragma once
// A flow (RFC 5626's word): one connection a SIP peer keeps open to this server, over TCP, TLS
// or WebSocket. Requests for a user registered over it, and responses to requests that came on
// it, are written back on it. A flow queues what it must send and writes it from its own
// coroutine, so a sender never waits; a peer that stops reading until `max_queued` bytes wait
// is closed rather than allowed to grow memory.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <chrono>
#include <deque>
#include <optional>
#include <functional>
#include <string>
#include <string_view>

namespace junction {
class shard;
}

namespace junction::sip {

enum class transport : std::uint8_t { udp, tcp, tls, ws, wss };
std::string_view transport_name(transport t) noexcept;   // "UDP", "TCP", ... as Via writes them
std::string_view transport_token(transport t) noexcept;  // "udp", "tcp", ... as logs and bindings
// The transport a token names ("tcp", "WSS": any case, as a URI's transport= may write it).
std::optional<transport> transport_from_token(std::string_view token) noexcept;
inline bool reliable(transport t) noexcept { return t != transport::udp; }

class flow {
 public:
  using write_fn = std::function<boost::asio::awaitable<boost::system::error_code>(std::string_view)>;

  flow(shard& home, std::uint64_t id, transport kind, write_fn write, std::function<void()> close,
       std::size_t max_queued);
  flow(const flow&) = delete;
  flow& operator=(const flow&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  transport kind() const noexcept { return kind_; }
  void send(std::string bytes);
  // Writes what is queued until stop(); run next to the flow's reader.
  boost::asio::awaitable<void> write_loop();
  void stop();
  bool stopped() const noexcept { return stopped_; }
  // Since when the write under way has waited for the peer (nothing when none is under way): a
  // peer that stops reading holds the flow no longer than its watchdog allows.
  std::optional<std::chrono::steady_clock::time_point> writing_since() const noexcept { return writing_since_; }

 private:
  std::uint64_t id_;
  transport kind_;
  write_fn write_;
  std::function<void()> close_;
  std::size_t max_queued_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  boost::asio::steady_timer wake_;
  bool asleep_ = false, stopped_ = false;
  std::optional<std::chrono::steady_clock::time_point> writing_since_;
};

}  // namespace junction::sip
