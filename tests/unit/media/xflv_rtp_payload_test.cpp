#include "media/xflv/rtp_payload.hpp"

#include <gtest/gtest.h>

namespace junction::media::xflv {
namespace {

frame media_frame(track t, std::uint32_t ts, std::size_t size, std::uint8_t first) {
  std::vector<std::byte> body(size);
  for (std::size_t i = 0; i < size; ++i) body[i] = std::byte(static_cast<std::uint8_t>(i * 31 + 7));
  body[0] = std::byte{first};
  return make_frame(t, ts, shared_buffer::copy_of(body));
}

TEST(XflvRtp, FramesCrossAsSiprtmpChunksAndComeBackWhole) {
  packetizer tx;
  depacketizer rx;
  // A Speex frame (0xB2: speex, 16 kHz), and an H.264 keyframe of 40 KB: 41 chunks.
  std::vector<frame> sent{media_frame(track::audio, 20, 42, 0xB2), media_frame(track::video, 40, 40'000, 0x17),
                          media_frame(track::audio, 40, 42, 0xB2)};
  std::vector<frame> got;
  for (const auto& f : sent) {
    auto packets = tx.packetize(f);
    ASSERT_FALSE(packets.empty());
    EXPECT_EQ(packets[0][0], 'R');
    EXPECT_EQ(packets[0][3], 'P');
    for (const auto& p : packets) {
      EXPECT_LE(p.size(), 12u + max_chunk);
      if (auto out = rx.push(p)) got.push_back(*out);
    }
  }
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(got[i].track, sent[i].track);
    EXPECT_EQ(got[i].timestamp, sent[i].timestamp);
    EXPECT_EQ(got[i].codec, sent[i].codec);
    EXPECT_TRUE(std::equal(got[i].payload.bytes().begin(), got[i].payload.bytes().end(),
                           sent[i].payload.bytes().begin(), sent[i].payload.bytes().end()));
  }
}

TEST(XflvRtp, AMissingChunkDropsOnlyItsMessage) {
  packetizer tx;
  depacketizer rx;
  auto big = tx.packetize(media_frame(track::video, 0, 5000, 0x27));
  auto small = tx.packetize(media_frame(track::audio, 20, 42, 0xB2));
  big.erase(big.begin() + 2);
  std::size_t frames = 0;
  for (const auto& p : big) frames += rx.push(p).has_value();
  for (const auto& p : small) frames += rx.push(p).has_value();
  EXPECT_EQ(frames, 1u);  // the audio frame only
  EXPECT_EQ(rx.dropped(), 1u);
}

TEST(XflvRtp, WhatItRefuses) {
  packetizer tx;
  EXPECT_TRUE(tx.packetize(media_frame(track::video, 0, 70'000, 0x17)).empty());  // over 64 KiB assembled
  EXPECT_EQ(tx.too_big(), 1u);
  depacketizer rx;
  std::vector<std::uint8_t> wrong_magic{'R', 'T', 'M', 'X', 0, 0, 0, 0, 0, 0, 0, 20};
  EXPECT_FALSE(rx.push(wrong_magic));
  std::vector<std::uint8_t> lying{'R', 'T', 'M', 'P', 0, 0, 0, 1, 0, 0, 0, 13, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 0, 1};
  EXPECT_FALSE(rx.push(lying));  // says a 5-byte body, carries 1
  EXPECT_EQ(rx.malformed(), 2u);
}

}  // namespace
}  // namespace junction::media::xflv
