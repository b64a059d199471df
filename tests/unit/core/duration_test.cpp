#include "core/duration.hpp"

#include <gtest/gtest.h>

namespace junction {
namespace {
using std::chrono::milliseconds;

TEST(duration, parses_units) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(duration, rejects_malformed) {
  for (auto bad : {"", "10", "s", "-1s", "1.5s", "10 s", "10sec", "1d", "99999999999999999999h"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(duration, formats_round_units) {
  EXPECT_EQ(format_duration(milliseconds(10'000)), "10s");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
}

}  // namespace
}  // namespace junction
