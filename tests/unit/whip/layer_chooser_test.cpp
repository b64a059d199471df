#include "whip/layer_chooser.hpp"

#include <gtest/gtest.h>

namespace junction::whip {
namespace {

TEST(LayerChooser, GoesDownWhenThePathIsFullAndUpWhenThereIsRoom) {
  layer_chooser c({1'500'000, 500'000, 150'000});
  EXPECT_EQ(c.current(), 0u);
  // A browser that can take it all: stays.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.second(3'000'000, 1'500'000), 0u);
  // The estimate falls under what is sent: two seconds of it, one layer down.
  EXPECT_EQ(c.second(800'000, 1'500'000), 0u);
  EXPECT_EQ(c.second(800'000, 1'500'000), 1u);
  // 800 kbit/s take the middle layer (500): no further down, and not up (1.5 Mbit/s x 1.3).
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.second(800'000, 500'000), 1u);
  // Very little: down again, and the bottom is the bottom.
  EXPECT_EQ(c.second(100'000, 500'000), 1u);
  EXPECT_EQ(c.second(100'000, 500'000), 2u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.second(50'000, 150'000), 2u);
  // Room again: five seconds over 1.3x the next layer's rate for each step up.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.second(700'000, 150'000), 2u);
  EXPECT_EQ(c.second(700'000, 150'000), 1u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.second(5'000'000, 500'000), 1u);
  EXPECT_EQ(c.second(5'000'000, 500'000), 0u);
}

TEST(LayerChooser, ABriefDipOrNoEstimateChangesNothing) {
  layer_chooser c({1'000'000, 300'000});
  EXPECT_EQ(c.second(500'000, 1'000'000), 0u);
  EXPECT_EQ(c.second(2'000'000, 1'000'000), 0u);  // one second only
  EXPECT_EQ(c.second(500'000, 1'000'000), 0u);
  EXPECT_EQ(c.second(std::nullopt, 1'000'000), 0u);  // the count starts again
  EXPECT_EQ(c.second(500'000, 1'000'000), 0u);
  // One layer only: nothing to choose.
  layer_chooser one({1'000'000});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(one.second(1'000, 1'000'000), 0u);
}

}  // namespace
}  // namespace junction::whip
