#include "media/rtp/nack_tracker.hpp"

#include <gtest/gtest.h>

namespace junction::media::rtp {
namespace {

using namespace std::chrono_literals;
using seqs = std::vector<std::uint16_t>;

TEST(NackTracker, AsksForAGapAtOnceAndAgainUntilItComesOrTheTriesRunOut) {
  nack_tracker t({.retry = 100ms, .max_tries = 2, .max_missing = 512});
  const auto t0 = nack_tracker::clock::now();
  t.on_packet(10, t0);
  t.on_packet(11, t0);
  EXPECT_EQ(t.due(t0), seqs{});  // nothing missing
  t.on_packet(14, t0);            // 12 and 13 lost
  EXPECT_EQ(t.due(t0), (seqs{12, 13}));
  EXPECT_EQ(t.due(t0 + 50ms), seqs{});  // not again before the retry
  t.on_packet(12, t0 + 60ms);           // the retransmission came
  EXPECT_EQ(t.due(t0 + 100ms), seqs{13});
  EXPECT_EQ(t.due(t0 + 200ms), seqs{});  // two tries: given up
  EXPECT_EQ(t.stats().missing, 2u);
  EXPECT_EQ(t.stats().recovered, 1u);
  EXPECT_EQ(t.stats().given_up, 1u);
}

TEST(NackTracker, FollowsTheWrapAndBoundsWhatItAsksFor) {
  nack_tracker t({.retry = 100ms, .max_tries = 3, .max_missing = 4});
  const auto t0 = nack_tracker::clock::now();
  t.on_packet(65534, t0);
  t.on_packet(1, t0);  // 65535 and 0 lost, across the wrap
  EXPECT_EQ(t.due(t0), (seqs{65535, 0}));
  t.on_packet(100, t0);  // a jump: only the last four before it are asked for
  EXPECT_EQ(t.due(t0 + 1ms), (seqs{96, 97, 98, 99}));
  EXPECT_EQ(t.stats().given_up, 2u);  // 65535 and 0, too far behind now
}

}  // namespace
}  // namespace junction::media::rtp
