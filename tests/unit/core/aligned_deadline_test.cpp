#include "core/aligned_deadline.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace junction {
namespace {
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

clock::time_point at(std::chrono::milliseconds since_epoch) { return clock::time_point{since_epoch}; }

TEST(aligned_deadline, lands_on_the_grid_within_one_period) {
  for (auto now : {1ms, 999ms, 2'500ms, 2'501ms, 123'456'789ms}) {
    const auto d = aligned_deadline(at(now), 2'500ms);
    EXPECT_EQ(d.time_since_epoch() % 2'500ms, 0ms) << now.count();
    EXPECT_GT(d, at(now)) << now.count();
    EXPECT_LE(d, at(now) + 2'500ms) << now.count();
  }
}

TEST(aligned_deadline, timers_started_within_one_period_expire_together) {
  // Two connections whose checks started 1.2 s apart, both inside the same 2.5 s period.
  EXPECT_EQ(aligned_deadline(at(10'100ms), 2'500ms), aligned_deadline(at(11'300ms), 2'500ms));
  EXPECT_EQ(aligned_deadline(at(10'100ms), 2'500ms), at(12'500ms));
}

TEST(aligned_deadline, an_instant_on_the_grid_waits_a_whole_period) {
  EXPECT_EQ(aligned_deadline(at(5'000ms), 2'500ms), at(7'500ms));
}

TEST(aligned_deadline, a_zero_period_is_now) {
  EXPECT_EQ(aligned_deadline(at(5'000ms), 0ms), at(5'000ms));
}

}  // namespace
}  // namespace junction
