#pragma once
// What a session must write to its connection, queued and written from one coroutine of its own
// (write_loop, run beside the session's reader), so that whoever sends never waits: a SIP flow,
// an XMPP stream. A peer that stops reading until `max_queued` bytes wait is closed rather than
// allowed to grow memory.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <vector>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace junction {

class shard;

class write_queue {
 public:
  using write_fn = std::function<boost::asio::awaitable<boost::system::error_code>(std::string_view)>;

  // `name` says whose queue it is in the log ("sip flow 12").
  write_queue(shard& home, std::string name, write_fn write, std::function<void()> close, std::size_t max_queued);
  write_queue(const write_queue&) = delete;
  write_queue& operator=(const write_queue&) = delete;

  void send(std::string bytes);
  // Writes what is queued until stop().
  boost::asio::awaitable<void> write_loop();
  // Or the same loop spawned on the queue's shard, beside a session's reader (one frame, where
  // awaitable operators would keep a parallel group's frames and cancellation slots), and
  // loop_ended() to wait until it has ended: the session's state lives until then. A loop that
  // throws is logged and stops the queue (so the reader ends too).
  void spawn_loop();
  boost::asio::awaitable<void> loop_ended();
  // Closes the connection (through `close`) and ends the write loop.
  void stop();
  // stop() once everything queued is written (a last stream error, a goodbye).
  void stop_when_written();
  // Waits until everything queued is written (or the queue stopped): before a session changes
  // what it writes on (STARTTLS).
  boost::asio::awaitable<void> drained();
  bool stopped() const noexcept { return stopped_; }
  std::size_t queued() const noexcept { return queued_; }
  // Since when the write under way has waited for the peer (nothing when none is under way): a
  // peer that stops reading holds the connection no longer than its watchdog allows.
  std::optional<std::chrono::steady_clock::time_point> writing_since() const noexcept { return writing_since_; }

 private:
  std::string name_;
  write_fn write_;
  std::function<void()> close_;
  std::size_t max_queued_;
  // What waits, oldest at head_ (a vector: a deque allocates 576 bytes for every connection).
  std::vector<std::string> queue_;
  std::size_t head_ = 0;
  std::size_t queued_ = 0;
  boost::asio::steady_timer wake_;
  boost::asio::steady_timer drained_;  // what drained() waits on
  boost::asio::steady_timer loop_done_;  // what loop_ended() waits on
  bool loop_running_ = false;
  bool draining_ = false;
  bool asleep_ = false, stopped_ = false, stop_when_written_ = false, writing_ = false;
  std::optional<std::chrono::steady_clock::time_point> writing_since_;
};

}  // namespace junction
