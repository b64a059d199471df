#pragma once
// One client connection's socket plumbing, shared by publishers and players: TCP connect, the
// handshake, reading into the shard's buffer and feeding the protocol core, writing what the
// core queued, and a deadline on every setup step. Publishing and playing are decided by
// rtmp_publisher and rtmp_player; this knows nothing of either.
#include "junction-load/load_shard.hpp"

#include "rtmp/client_protocol.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace junction::load {

class rtmp_connection {
 public:
  using clock = std::chrono::steady_clock;

  explicit rtmp_connection(load_shard& shard, rtmp::client_protocol_options options = {});

  // Run beside the session as `co_await (session() && watchdog())`: closes the connection when
  // a deadline set with set_deadline() passes, and ends once the connection is closed.
  boost::asio::awaitable<void> watchdog();
  void set_deadline(std::chrono::milliseconds from_now);
  void clear_deadline();

  boost::asio::awaitable<std::error_code> open(const boost::asio::ip::tcp::endpoint& server);
  // C0+C1 out, S0+S1+S2 in, C2 out.
  boost::asio::awaitable<std::error_code> handshake();
  // Reads once and appends what the protocol core makes of it. Events left over by wait_for()
  // come first.
  boost::asio::awaitable<std::error_code> read_events(std::vector<rtmp::client_event>& events);
  // Writes everything the core has queued (replies, acknowledgements, media).
  boost::asio::awaitable<std::error_code> flush();
  // Sends what the core has queued (the request), then reads, flushing the core's answers as
  // it goes, until an event satisfies `wanted`, which it
  // returns; events before it go to `others`, events after it wait for the next read_events().
  // nullopt when the connection fails or closes first. Pass named std::function objects, not
  // temporaries (GCC 12 and temporaries in co_await expressions, see src/rtmp/session.cpp).
  boost::asio::awaitable<std::optional<rtmp::client_event>> wait_for(
      const std::function<bool(const rtmp::client_event&)>& wanted,
      const std::function<void(rtmp::client_event&)>& others);

  // TCP connect, handshake, connect to the application, createStream: what publishing and
  // playing both start with, each step within the plan's step timeout. Events that arrive
  // meanwhile and answer none of these go to `others`.
  struct stream_setup {
    enum class failure { none, connect, handshake, refused } failed = failure::none;
    std::uint32_t stream_id = 0;
    std::string why;  // for a refusal: the server's code and description
  };
  boost::asio::awaitable<stream_setup> open_stream(const std::function<void(rtmp::client_event&)>& others);

  // Shuts the socket down: every pending wait ends, and the session's coroutines with it.
  void close() noexcept;
  bool closed() const noexcept { return closed_; }
  bool timed_out() const noexcept { return timed_out_; }
  // Why the last read or write failed (for the reason a session ended).
  const std::error_code& last_error() const noexcept { return last_error_; }

  rtmp::client_protocol& protocol() noexcept { return protocol_; }
  clock::time_point connect_started() const noexcept { return connect_started_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }
  std::uint64_t bytes_written() const noexcept { return bytes_written_; }

 private:
  load_shard& shard_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  rtmp::client_protocol protocol_;
  std::deque<rtmp::client_event> leftover_;
  // Starts small (a player sends next to nothing and receives frames that the core copies out
  // anyway) and grows once when a read fills it, as Junction's own sessions do.
  std::vector<std::byte> read_buffer_;
  std::vector<std::byte> writing_;  // the bytes of the write in progress
  clock::time_point connect_started_{};
  std::uint64_t bytes_read_ = 0, bytes_written_ = 0;
  std::error_code last_error_;
  bool connected_ = false, closed_ = false, timed_out_ = false, write_busy_ = false;
};

// Helpers for wait_for's predicates.
bool is_answer(const rtmp::client_event& e, double transaction_id) noexcept;
const rtmp::call_result* as_call_result(const rtmp::client_event& e) noexcept;
const rtmp::stream_status* as_status(const rtmp::client_event& e) noexcept;

}  // namespace junction::load
