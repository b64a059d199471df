#include "media/rtp/remb_estimator.hpp"

#include <gtest/gtest.h>

namespace junction::media::rtp {
namespace {

using std::chrono::milliseconds;

TEST(RembEstimator, StartsAtItsMaximumAndStaysThereWithoutLoss) {
  remb_estimator e;
  EXPECT_EQ(e.estimate(), 5'000'000u);
  EXPECT_EQ(e.update(250'000, 200, 0, milliseconds(1000)), 5'000'000u);  // 2 Mbit/s, nothing lost
}

TEST(RembEstimator, HeavyLossCutsItBelowWhatArrives) {
  remb_estimator e;
  // 2 Mbit/s arrived, 20 % of the packets missing: 2 Mbit/s × (1 - 0.1).
  EXPECT_EQ(e.update(250'000, 160, 40, milliseconds(1000)), 1'800'000u);
  EXPECT_EQ(e.update(225'000, 180, 20, milliseconds(1000)), 1'800'000u);  // 10 %: held
  // No loss again: 5 % up a second.
  EXPECT_EQ(e.update(225'000, 200, 0, milliseconds(1000)), 1'891'000u);
}

TEST(RembEstimator, NeverPromisesMoreThanTwiceWhatArrivedWhenClimbing) {
  remb_estimator e;
  e.update(62'500, 50, 50, milliseconds(1000));  // 500 kbit/s, half lost: 375 kbit/s
  EXPECT_EQ(e.estimate(), 375'000u);
  for (int i = 0; i < 50; ++i) e.update(12'500, 100, 0, milliseconds(1000));  // 100 kbit/s arriving
  EXPECT_LE(e.estimate(), 375'000u);
}

TEST(RembEstimator, StaysWithinItsBounds) {
  remb_estimator e({.min = 200'000, .max = 1'000'000});
  EXPECT_EQ(e.estimate(), 1'000'000u);
  e.update(1'000, 10, 90, milliseconds(1000));
  EXPECT_EQ(e.estimate(), 200'000u);
  EXPECT_EQ(e.update(0, 0, 0, milliseconds(1000)), 200'000u);  // nothing came: nothing learnt
}

}  // namespace
}  // namespace junction::media::rtp
