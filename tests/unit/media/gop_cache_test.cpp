#include "media/gop_cache.hpp"

#include <gtest/gtest.h>

namespace junction::media {
namespace {

shard_frame_ptr video(std::uint32_t ts, unsigned first, unsigned second = 1, std::size_t size = 8) {
  std::vector<std::byte> body(size, std::byte{0});
  body[0] = std::byte(first);
  body[1] = std::byte(second);
  return wrap(make_frame(track::video, ts, shared_buffer::copy_of(body)));
}
shard_frame_ptr audio(std::uint32_t ts, unsigned packet_type = 1) {
  std::vector<std::byte> body{std::byte{0xAF}, std::byte(packet_type), std::byte{0}};
  return wrap(make_frame(track::audio, ts, shared_buffer::copy_of(body)));
}
shard_frame_ptr metadata() {
  return wrap(make_frame(track::data, 0, shared_buffer::copy_of(std::string_view{"meta"})));
}

std::vector<const shard_frame*> replayed(const gop_cache& c) {
  std::vector<const shard_frame*> out;
  c.replay([&](const shard_frame_ptr& f) { out.push_back(f.get()); });
  return out;
}

TEST(gop_cache, replays_metadata_configs_then_the_latest_group) {
  gop_cache c;
  auto meta = metadata(), avc = video(0, 0x17, 0), aac = audio(0, 0);
  c.add(meta);
  c.add(avc);
  c.add(aac);
  c.add(video(0, 0x27));  // before any keyframe: not cached
  c.add(video(40, 0x17));
  c.add(audio(40));
  auto k2 = video(80, 0x17);
  auto a2 = audio(90);
  auto p2 = video(120, 0x27);
  c.add(k2);
  c.add(a2);
  c.add(p2);
  auto r = replayed(c);
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0], meta.get());
  EXPECT_EQ(r[1], avc.get());
  EXPECT_EQ(r[2], aac.get());
  EXPECT_EQ(r[3], k2.get()) << "the group starts at the latest keyframe";
  EXPECT_EQ(r[4], a2.get());
  EXPECT_EQ(r[5], p2.get());
}

TEST(gop_cache, disabled_cache_keeps_only_metadata_and_configs) {
  gop_cache c{{.enabled = false}};
  c.add(metadata());
  c.add(video(0, 0x17, 0));
  c.add(video(0, 0x17));
  c.add(video(40, 0x27));
  EXPECT_EQ(replayed(c).size(), 2u);
  EXPECT_EQ(c.group_frames(), 0u);
}

TEST(gop_cache, an_oversized_group_is_dropped_until_the_next_keyframe) {
  gop_cache c{{.enabled = true, .max_bytes = 100}};
  c.add(video(0, 0x17, 1, 60));
  c.add(video(40, 0x27, 1, 60));  // 120 bytes: over the cap
  EXPECT_EQ(c.group_frames(), 0u);
  c.add(video(80, 0x27, 1, 10));
  EXPECT_EQ(c.group_frames(), 0u) << "no partial group without its keyframe";
  c.add(video(120, 0x17, 1, 10));
  EXPECT_EQ(c.group_frames(), 1u);
  EXPECT_EQ(c.group_bytes(), 10u);
}

TEST(gop_cache, clear_forgets_everything) {
  gop_cache c;
  c.add(metadata());
  c.add(video(0, 0x17));
  c.clear();
  EXPECT_TRUE(replayed(c).empty());
}

}  // namespace
}  // namespace junction::media
