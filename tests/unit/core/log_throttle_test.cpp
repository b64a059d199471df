#include "core/log.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace junction::log {
namespace {

TEST(LogThrottle, ABurstOfOneKindIsCutAndTheCountReported) {
  // A fresh thread: the throttle's state is per thread.
  std::thread([] {
    std::size_t left_out = 0;
    for (int i = 0; i < 50; ++i) {
      EXPECT_TRUE(throttle_admit("test kind", left_out)) << i;
      EXPECT_EQ(left_out, 0u);
    }
    for (int i = 0; i < 7; ++i) EXPECT_FALSE(throttle_admit("test kind", left_out));
    // Another kind is not affected.
    EXPECT_TRUE(throttle_admit("other kind", left_out));
    EXPECT_EQ(left_out, 0u);
  }).join();
}

}  // namespace
}  // namespace junction::log
