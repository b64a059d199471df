#include "junction-load/frame_stamp.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace junction::load {
namespace {

std::vector<std::byte> video_body(std::size_t size, unsigned char first = 0x27, unsigned char type = 1) {
  std::vector<std::byte> b(size, std::byte{0xA5});
  b[0] = std::byte{first};
  b[1] = std::byte{type};
  return b;
}

TEST(load_frame_stamp, round_trips_in_video_and_audio_bodies) {
  const frame_stamp s{.stream = 7, .track = media::track::video, .sequence = 0x01020304, .sent_ns = -5};
  auto v = video_body(100);
  write_stamp(std::span{v}.subspan(video_stamp_offset), s);
  auto back = read_stamp(media::track::video, v);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream, 7u);
  EXPECT_EQ(back->sequence, 0x01020304u);
  EXPECT_EQ(back->sent_ns, -5);
  EXPECT_EQ(back->track, media::track::video);

  std::vector<std::byte> a(audio_stamp_offset + stamp_size);
  a[0] = std::byte{0xAF};
  a[1] = std::byte{0x01};
  write_stamp(std::span{a}.subspan(audio_stamp_offset), {3, media::track::audio, 9, 123456789012345});
  auto audio = read_stamp(media::track::audio, a);
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->sequence, 9u);
  EXPECT_EQ(audio->sent_ns, 123456789012345);
}

TEST(load_frame_stamp, frames_without_a_stamp_have_none) {
  auto v = video_body(100);
  EXPECT_FALSE(read_stamp(media::track::video, v)) << "no magic";
  write_stamp(std::span{v}.subspan(video_stamp_offset), {0, media::track::video, 1, 1});
  EXPECT_TRUE(read_stamp(media::track::video, v));
  EXPECT_FALSE(read_stamp(media::track::audio, v)) << "a video body read as audio";
  EXPECT_FALSE(read_stamp(media::track::data, v));
  EXPECT_FALSE(read_stamp(media::track::video, std::span{v}.first(video_stamp_offset + stamp_size - 1)));
  auto header = v;
  header[1] = std::byte{0};  // AVC sequence header
  EXPECT_FALSE(read_stamp(media::track::video, header));
  auto vp6 = v;
  vp6[0] = std::byte{0x24};
  EXPECT_FALSE(read_stamp(media::track::video, vp6));
  // A stamp whose track byte disagrees with the message type.
  auto lying = video_body(100);
  write_stamp(std::span{lying}.subspan(video_stamp_offset), {0, media::track::audio, 1, 1});
  EXPECT_FALSE(read_stamp(media::track::video, lying));
}

}  // namespace
}  // namespace junction::load
