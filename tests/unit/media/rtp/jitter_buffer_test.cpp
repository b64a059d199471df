#include "media/rtp/jitter_buffer.hpp"

#include <gtest/gtest.h>

namespace junction::media::rtp {
namespace {

std::vector<std::uint16_t> sequences(const std::vector<jitter_buffer::entry>& out) {
  std::vector<std::uint16_t> s;
  for (const auto& e : out) s.push_back(e.sequence);
  return s;
}

TEST(JitterBuffer, ReordersAcrossTheWrap) {
  jitter_buffer b({std::chrono::microseconds(60'000), 64});
  std::vector<jitter_buffer::entry> out;
  b.push({1}, 65534, 0);
  b.push({2}, 0, 1000);      // 65535 is late
  b.push({3}, 65535, 2000);
  b.push({4}, 1, 3000);
  b.pop_ready(3000, out);
  EXPECT_EQ(sequences(out), (std::vector<std::uint16_t>{65534, 65535, 0, 1}));
  EXPECT_EQ(b.stats().lost, 0u);
}

TEST(JitterBuffer, AGapIsGivenUpAfterTheDelay) {
  jitter_buffer b({std::chrono::microseconds(60'000), 64});
  std::vector<jitter_buffer::entry> out;
  b.push({}, 10, 0);
  b.push({}, 12, 20'000);  // 11 missing
  b.pop_ready(20'000, out);
  EXPECT_EQ(sequences(out), std::vector<std::uint16_t>{10});
  EXPECT_EQ(b.next_deadline(), 80'000);
  b.pop_ready(79'999, out);
  EXPECT_EQ(out.size(), 1u);
  b.pop_ready(80'000, out);
  EXPECT_EQ(sequences(out), (std::vector<std::uint16_t>{10, 12}));
  EXPECT_EQ(b.stats().lost, 1u);
  b.push({}, 11, 90'000);  // too late now
  b.push({}, 13, 90'000);
  b.push({}, 13, 90'001);  // twice
  b.pop_ready(90'001, out);
  EXPECT_EQ(b.stats().late, 1u);
  EXPECT_EQ(b.stats().duplicates, 1u);
  EXPECT_EQ(sequences(out).back(), 13);
}

TEST(JitterBuffer, NeverHoldsMoreThanItsBound) {
  jitter_buffer b({std::chrono::microseconds(10'000'000), 8});
  std::vector<jitter_buffer::entry> out;
  b.push({}, 0, 0);
  b.pop_ready(0, out);
  for (std::uint16_t s = 2; s < 40; ++s) {  // 1 never comes, the delay is long
    b.push({}, s, s);
    b.pop_ready(s, out);
    EXPECT_LE(b.size(), 8u);
  }
  EXPECT_GT(b.stats().overflows, 0u);
  EXPECT_EQ(b.stats().lost, 1u);
}

}  // namespace
}  // namespace junction::media::rtp
