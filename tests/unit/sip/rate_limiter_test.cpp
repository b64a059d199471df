#include "sip/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, EachSourceHasItsOwnBudgetPerSecond) {
  rate_limiter limiter(3);
  rate_limiter::clock::time_point t{1000s};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("192.0.2.1", t));
  EXPECT_FALSE(limiter.allow("192.0.2.1", t + 500ms));
  EXPECT_TRUE(limiter.allow("192.0.2.2", t + 500ms));  // another source is not affected
  EXPECT_TRUE(limiter.allow("192.0.2.1", t + 1s));     // a new window
}

TEST(RateLimiter, ZeroMeansNoLimitAndMemoryStaysBounded) {
  rate_limiter off(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(off.allow("x", {}));
  rate_limiter small(5, 100);
  rate_limiter::clock::time_point t{1000s};
  for (int i = 0; i < 1000; ++i) small.allow("10.0.0." + std::to_string(i), t);
  EXPECT_LE(small.sources(), 100u);
}

}  // namespace
}  // namespace junction::sip
