#include "junction-load/stats.hpp"

#include <gtest/gtest.h>

#include <random>

namespace junction::load {
namespace {

TEST(load_stats, sequences_count_gaps_only_after_the_first_frame) {
  const struct {
    std::vector<std::uint32_t> received;
    std::uint64_t missing, out_of_order;
  } cases[] = {
      {{}, 0, 0},
      {{7}, 0, 0},                 // a late joiner starts anywhere
      {{100, 101, 102, 103}, 0, 0},
      {{0, 1, 3, 4}, 1, 0},
      {{0, 5}, 4, 0},
      {{0, 1, 1, 2}, 0, 1},        // a duplicate
      {{0, 2, 1, 3}, 1, 1},        // reordered: the gap stays counted, the late one is out of order
      {{5, 4, 6}, 0, 1},
      {{0, 10, 11, 20}, 17, 0},
  };
  for (const auto& c : cases) {
    track_sequence s;
    for (auto n : c.received) s.on_frame(n);
    EXPECT_EQ(s.missing, c.missing) << ::testing::PrintToString(c.received);
    EXPECT_EQ(s.out_of_order, c.out_of_order) << ::testing::PrintToString(c.received);
    EXPECT_EQ(s.frames, c.received.size());
  }
}

TEST(load_stats, a_player_is_short_of_every_frame_from_its_first_to_the_publishers_last) {
  const struct {
    const char* what;
    std::vector<std::uint32_t> received;
    std::uint64_t at_play, published, short_by;
  } cases[] = {
      {"all of them", {0, 1, 2, 3, 4}, 0, 5, 0},
      {"a late joiner from the GOP cache", {50, 51, 52}, 52, 53, 0},
      {"frame 7 and nothing after", {5, 6, 7}, 5, 100, 92},  // gaps alone count 0 here
      {"a gap and a lost tail", {0, 1, 3}, 0, 6, 3},
      {"nothing, with frames published after the play", {}, 10, 25, 15},
      {"nothing, with nothing published after the play", {}, 10, 10, 0},
      {"a duplicate is not a frame more", {0, 1, 1, 2}, 0, 4, 1},
      {"the publisher's count lags (never negative)", {0, 1, 2, 3}, 0, 2, 0},
  };
  for (const auto& c : cases) {
    track_sequence s;
    for (auto n : c.received) s.on_frame(n);
    EXPECT_EQ(frames_short(s, c.at_play, c.published), c.short_by) << c.what;
  }
  track_sequence late;
  late.on_frame(40);
  late.on_frame(41);
  EXPECT_EQ(late.first, 40u);
  EXPECT_EQ(late.received(), 2u);
}

TEST(load_stats, histogram_buckets_cover_every_value_in_order) {
  std::size_t previous = 0;
  for (std::uint64_t us = 0; us < 1'000'000; us += 1 + us / 50) {
    const auto b = latency_histogram::bucket_of(us);
    EXPECT_GE(b, previous) << us;
    EXPECT_LE(latency_histogram::bucket_low(b), us) << us;
    EXPECT_GT(latency_histogram::bucket_low(b + 1), us) << us;
    previous = b;
  }
  EXPECT_EQ(latency_histogram::bucket_of(~std::uint64_t{0}), latency_histogram::bucket_of(std::uint64_t{1} << 50));
}

TEST(load_stats, histogram_percentiles_within_three_percent) {
  latency_histogram h;
  EXPECT_EQ(h.percentile_ms(0.5), 0);
  std::mt19937 random{1};
  std::vector<double> exact;
  for (int i = 0; i < 100000; ++i) {
    const double ms = std::uniform_real_distribution<double>(0.05, 200)(random);
    h.record_ns(static_cast<std::int64_t>(ms * 1e6));
    exact.push_back(ms);
  }
  EXPECT_EQ(h.count(), 100000u);
  for (double p : {0.5, 0.9, 0.99}) {
    auto copy = exact;
    const double want = percentile(copy, p);
    EXPECT_NEAR(h.percentile_ms(p), want, want * 0.03) << p;
  }
  EXPECT_NEAR(h.max_ms(), 200, 0.01);
  EXPECT_LE(h.percentile_ms(1.0), h.max_ms());

  latency_histogram small;
  small.record_ns(12'000);  // 12 us: exact
  small.record_ns(-5);      // clock oddities count as 0
  EXPECT_EQ(small.percentile_ms(1.0), 0.012);
  EXPECT_EQ(small.percentile_ms(0.5), 0);
  latency_histogram merged;
  merged.merge(h);
  merged.merge(small);
  EXPECT_EQ(merged.count(), 100002u);
  EXPECT_EQ(merged.max_ms(), h.max_ms());
}

TEST(load_stats, nearest_rank_percentiles_and_spread) {
  std::vector<double> none;
  EXPECT_EQ(percentile(none, 0.5), 0);
  std::vector<double> v{5, 1, 4, 2, 3};
  EXPECT_EQ(percentile(v, 0.5), 3);
  EXPECT_EQ(percentile(v, 0.99), 5);
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile(v, 0.2), 1);
  EXPECT_EQ(percentile(v, 0.21), 2);
  const auto s = spread_of({10, 20, 30, 40});
  EXPECT_EQ(s.min, 10u);
  EXPECT_EQ(s.avg, 25);
  EXPECT_EQ(s.max, 40u);
  EXPECT_EQ(spread_of({}).max, 0u);
}

TEST(load_stats, a_tally_sums_its_tracks) {
  player_tally t;
  for (std::uint32_t n : {0u, 1u, 3u}) t.video.on_frame(n);
  for (std::uint32_t n : {0u, 2u, 2u}) t.audio.on_frame(n);
  EXPECT_EQ(t.missing(), 2u);
  EXPECT_EQ(t.out_of_order(), 1u);
}

}  // namespace
}  // namespace junction::load
