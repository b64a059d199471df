#include "core/shared_tick.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace junction {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Each bound below is far from the periods it separates (seconds against a minute), so these
// tests say which tick a waiter joined without depending on how fast the machine is.

TEST(shared_tick, a_later_waiter_joins_the_pending_tick) {
  asio::io_context io;
  shared_tick tick{io};
  asio::cancellation_signal never;
  int done = 0;
  auto waiter = [&](std::chrono::milliseconds period) -> asio::awaitable<void> {
    co_await tick.next(period, never.slot());
    ++done;
  };
  asio::co_spawn(io, waiter(50ms), asio::detached);
  asio::co_spawn(io, waiter(60s), asio::detached);  // joins the 50 ms tick, not a minute's
  io.run_for(20s);
  EXPECT_EQ(done, 2);
}

TEST(shared_tick, a_new_tick_starts_once_the_last_has_passed) {
  asio::io_context io;
  shared_tick tick{io};
  asio::cancellation_signal never;
  int done = 0;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await tick.next(10ms, never.slot());
    ++done;
    co_await tick.next(10ms, never.slot());  // the first tick is over: a fresh 10 ms one
    ++done;
  }, asio::detached);
  io.run_for(20s);
  EXPECT_EQ(done, 2);
}

TEST(shared_tick, a_cancelled_waiter_leaves_at_once_and_the_others_stay) {
  asio::io_context io;
  shared_tick tick{io};
  asio::cancellation_signal stop_first, never;
  bool first = false, second = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await tick.next(60s, stop_first.slot());
    first = true;
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await tick.next(60s, never.slot());
    second = true;
  }, asio::detached);
  io.poll();  // both wait now
  stop_first.emit(asio::cancellation_type::all);
  io.run_for(2s);
  EXPECT_TRUE(first) << "cancelled: out at once";
  EXPECT_FALSE(second) << "still waiting for the minute's tick";
  io.stop();
}

}  // namespace
}  // namespace junction
