#include "core/shared_tick.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace junction {

namespace asio = boost::asio;

struct shared_tick::timer {
  explicit timer(asio::io_context& context) : t{context} {}
  asio::steady_timer t;
};

shared_tick::shared_tick(asio::io_context& context) : timer_{std::make_unique<timer>(context)} {}
shared_tick::~shared_tick() = default;

asio::awaitable<void> shared_tick::next(std::chrono::milliseconds period,
                                        asio::cancellation_slot cancel) {
  auto& t = timer_->t;
  const auto now = std::chrono::steady_clock::now();
  // An expiry in the past means no tick is pending: earlier waiters were released (an expired
  // timer hands them to the event loop) or are due now, and re-arming merely aborts them early.
  if (t.expiry() <= now) t.expires_at(now + period);
  // Any completion means "go": expired, aborted by a re-arm, or cancelled by its own writer.
  auto token = asio::bind_cancellation_slot(cancel, asio::as_tuple(asio::use_awaitable));
  co_await t.async_wait(token);
}

}  // namespace junction
