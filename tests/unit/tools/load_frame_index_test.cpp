#include "junction-load/frame_index.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace junction::load {
namespace {

using media::track;

TEST(load_frame_index, finds_frames_by_timestamp_per_track) {
  frame_index index;
  EXPECT_FALSE(index.find(track::video, 0, std::nullopt)) << "nothing recorded";
  for (std::uint32_t i = 0; i < 100; ++i) {
    index.record(track::video, i, i * 40, 1000 + i);
    index.record(track::audio, i, i * 23, 5000 + i);
  }
  auto v = index.find(track::video, 400, std::nullopt);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->index, 10u);
  EXPECT_EQ(v->sent_ns, 1010);
  auto a = index.find(track::audio, 46, std::optional<std::uint32_t>{1});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->index, 2u);
  EXPECT_EQ(a->sent_ns, 5002);
  EXPECT_FALSE(index.find(track::video, 401, std::nullopt)) << "no such timestamp";
  EXPECT_FALSE(index.find(track::video, 46, std::nullopt)) << "audio's timestamp, not video's";
  auto behind = index.find(track::video, 400, std::optional<std::uint32_t>{50});
  ASSERT_TRUE(behind) << "a reordered frame is found behind the last one";
  EXPECT_EQ(behind->index, 10u);
}

TEST(load_frame_index, repeated_timestamps_resolve_in_order) {
  frame_index index;
  // Two frames share a timestamp (a file with 1 ms resolution and a burst).
  index.record(track::video, 0, 100, 1);
  index.record(track::video, 1, 100, 2);
  index.record(track::video, 2, 140, 3);
  auto first = index.find(track::video, 100, std::optional<std::uint32_t>{});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->index, 1u) << "a first frame is matched with the newest";
  auto next = index.find(track::video, 100, std::optional<std::uint32_t>{0});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->index, 1u) << "after 0, the next one with that timestamp";
}

TEST(load_frame_index, forgets_what_the_ring_overwrote) {
  frame_index index{16};
  for (std::uint32_t i = 0; i < 40; ++i) index.record(track::video, i, i * 10, i);
  EXPECT_FALSE(index.find(track::video, 0, std::nullopt));
  EXPECT_FALSE(index.find(track::video, 230, std::optional<std::uint32_t>{20}));
  auto e = index.find(track::video, 390, std::optional<std::uint32_t>{2});
  ASSERT_TRUE(e) << "a lagging player searches from the oldest slot still held";
  EXPECT_EQ(e->index, 39u);
}

TEST(load_frame_index, a_reader_on_another_thread_sees_consistent_entries) {
  frame_index index{1024};
  constexpr std::uint32_t frames = 200000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint32_t i = 0; i < frames; ++i) index.record(track::video, i, i * 3, std::int64_t{i} * 7);
    done = true;
  });
  std::uint64_t found = 0;
  for (std::uint32_t probe = 0; !done; probe = (probe + 997) % frames) {
    // Whatever is found must be a whole entry: index, timestamp and send time of one frame.
    if (auto e = index.find(track::video, probe * 3, std::nullopt)) {
      ASSERT_EQ(e->index, probe);
      ASSERT_EQ(e->sent_ns, std::int64_t{probe} * 7);
      ++found;
    }
  }
  writer.join();
  auto newest = index.find(track::video, (frames - 1) * 3, std::nullopt);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->sent_ns, std::int64_t{frames - 1} * 7);
  RecordProperty("found_while_writing", static_cast<int>(found));
}

}  // namespace
}  // namespace junction::load
