#pragma once
// Periodic checks of many connections (watchdogs) wake the event loop once each unless their
// deadlines coincide. Rounding every deadline of the same period down to a multiple of that
// period makes the timers of a shard expire together, and one wake-up serves them all.
#include <chrono>

namespace junction {

// The last multiple of `period` (counted on the clock's epoch) at or before `now + period`:
// strictly after `now`, at most one period away. A zero period gives `now`.
template <class Clock, class Duration, class Period>
typename Clock::time_point aligned_deadline(std::chrono::time_point<Clock, Duration> now,
                                            Period period) {
  const auto p = std::chrono::duration_cast<typename Clock::duration>(period);
  if (p.count() <= 0) return now;
  const auto later = (now + p).time_since_epoch();
  return typename Clock::time_point{later - later % p};
}

}  // namespace junction
