#pragma once
// One timer that wakes many waiters of a shard together. Merged writes (rtmp.merge_write) make
// each publisher's reader wait a while so that more frames arrive per read; with a timer per
// reader, a shard with N publishers wakes up to N times per window, and on a virtual machine
// every sleep and wake of the event loop costs more than the work it delays. Waiting on the
// shard's shared tick instead, they are all woken by one expiry, and the writes to their players
// go out in one batch.
//
// A waiter started while no tick is pending starts one `period` ahead; later waiters join it,
// so a waiter waits between 0 and `period` (on average half of what a per-writer timer adds).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace junction {

class shared_tick {
 public:
  explicit shared_tick(boost::asio::io_context& context);
  ~shared_tick();
  shared_tick(const shared_tick&) = delete;
  shared_tick& operator=(const shared_tick&) = delete;

  // Completes at the shard's next tick, at most `period` from now, or early when `cancel` is
  // emitted (a writer that stops must not keep a shutting-down shard waiting).
  boost::asio::awaitable<void> next(std::chrono::milliseconds period,
                                    boost::asio::cancellation_slot cancel);

 private:
  struct timer;
  std::unique_ptr<timer> timer_;
};

}  // namespace junction
