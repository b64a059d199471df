#include "media/vp8/rtp_payload.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "../../support/vp8_stream.hpp"

namespace junction::media::vp8 {
namespace {

using bytes_t = std::vector<std::uint8_t>;

bytes_t data_of(const frame& f) {
  auto d = frame_data(f);
  return {d.begin(), d.end()};
}

// One frame as a sender packetizes it (RFC 7741 §4): payloads of at most `mtu` bytes, each with
// a descriptor; `long_descriptor` adds the extension byte, a 15-bit PictureID, TL0PICIDX and
// TID/KEYIDX (what Chromium sends), else only the required byte.
struct sender {
  std::uint16_t sequence = 1000;
  std::uint16_t picture = 0x7FF0;  // wraps past 15 bits during a test
  bool long_descriptor = true;

  std::vector<bytes_t> payloads(const bytes_t& frame, std::size_t mtu) {
    std::vector<bytes_t> out;
    for (std::size_t at = 0; at < frame.size(); at += mtu) {
      bytes_t p;
      const std::uint8_t s = at == 0 ? 0x10 : 0;
      if (long_descriptor) {
        p = {static_cast<std::uint8_t>(0x80 | s), 0xF0, static_cast<std::uint8_t>(0x80 | (picture >> 8 & 0x7F)),
             static_cast<std::uint8_t>(picture), 7, 0x20};
      } else {
        p = {s};
      }
      p.insert(p.end(), frame.begin() + static_cast<long>(at), frame.begin() + static_cast<long>(std::min(frame.size(), at + mtu)));
      out.push_back(std::move(p));
    }
    picture = static_cast<std::uint16_t>((picture + 1) & 0x7FFF);
    return out;
  }
};

rtp::packet packet_of(const bytes_t& payload, std::uint16_t sequence, std::uint32_t timestamp, bool marker) {
  rtp::packet p;
  p.header.sequence = sequence;
  p.header.timestamp = timestamp;
  p.header.marker = marker;
  p.payload = payload;
  return p;
}

TEST(Vp8Descriptor, ReadsEveryShape) {
  EXPECT_FALSE(read_descriptor({}));
  const bytes_t only = {0x10, 0x9D};
  auto d = read_descriptor(only);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->start);
  EXPECT_EQ(d->size, 1u);
  EXPECT_FALSE(d->picture_id);
  const bytes_t seven = {0x93, 0x80, 0x25, 0xAA};  // X, S, PID 3; I with a 7-bit PictureID
  d = read_descriptor(seven);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->partition, 3u);
  EXPECT_EQ(*d->picture_id, 0x25);
  EXPECT_EQ(d->size, 3u);
  const bytes_t fifteen = {0x80, 0xF0, 0x81, 0x02, 9, 0x40, 0xAA};
  d = read_descriptor(fifteen);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->start);
  EXPECT_EQ(*d->picture_id, 0x102);
  EXPECT_EQ(d->size, 6u);
  // Descriptors that run past the payload, or leave nothing after them.
  for (const bytes_t& bad : {bytes_t{0x80}, bytes_t{0x80, 0x80}, bytes_t{0x80, 0x80, 0x81}, bytes_t{0x10},
                             bytes_t{0x80, 0xF0, 0x81, 0x02, 9, 0x40}})
    EXPECT_FALSE(read_descriptor(bad)) << bad.size();
}

TEST(Vp8Depacketizer, GivesBackEveryFrameAtEveryPacketSize) {
  const auto stream = test::vp8_stream();
  ASSERT_EQ(stream.size(), 50u);
  EXPECT_TRUE(stream[0].keyframe);
  EXPECT_EQ(stream[0].codec, codec::vp8);
  EXPECT_EQ(keyframe_size(frame_data(stream[0])), (picture_size{320, 240}));
  EXPECT_FALSE(keyframe_size(frame_data(stream[1])));  // an inter frame
  EXPECT_FALSE(keyframe_size(bytes_t{0x10, 0x02, 0x00, 0x9d, 0x01}));
  for (std::size_t mtu : {1, 7, 100, 1200, 100000}) {
    for (bool long_descriptor : {true, false}) {
      SCOPED_TRACE(testing::Message() << "mtu " << mtu << (long_descriptor ? " long" : " short"));
      rtp_depacketizer d;
      sender s{.long_descriptor = long_descriptor};
      std::vector<frame> out;
      std::uint32_t ts = 0xFFFF0000;  // the RTP clock wraps during the stream
      for (const auto& f : stream) {
        auto parts = s.payloads(data_of(f), mtu);
        for (std::size_t i = 0; i < parts.size(); ++i) d.push(packet_of(parts[i], s.sequence++, ts, i + 1 == parts.size()), out);
        ts += 3600;
      }
      d.flush(out);
      ASSERT_EQ(out.size(), stream.size());
      for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(data_of(out[i]), data_of(stream[i])) << i;
        EXPECT_EQ(out[i].keyframe, stream[i].keyframe) << i;
        EXPECT_EQ(out[i].timestamp, i * 40) << i;
      }
      EXPECT_FALSE(d.wants_keyframe());
      EXPECT_EQ(d.counters().dropped_frames, 0u);
    }
  }
}

TEST(Vp8Depacketizer, ALossDropsEverythingUpToTheNextKeyframe) {
  const auto stream = test::vp8_stream();  // keyframes at 0 and 25
  rtp_depacketizer d;
  sender s;
  std::vector<frame> out;
  std::uint32_t ts = 0;
  bool wanted_after_loss = false;
  for (std::size_t n = 0; n < stream.size(); ++n) {
    auto parts = s.payloads(data_of(stream[n]), 300);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto seq = s.sequence++;
      if (n == 10 && i == 0) continue;  // frame 10 loses its first packet
      d.push(packet_of(parts[i], seq, ts, i + 1 == parts.size()), out);
    }
    if (n >= 10 && n < 25) wanted_after_loss = wanted_after_loss || d.wants_keyframe();
    ts += 3600;
  }
  d.flush(out);
  EXPECT_TRUE(wanted_after_loss);
  EXPECT_FALSE(d.wants_keyframe());
  ASSERT_EQ(out.size(), 10u + 25u);  // 0..9, then 25..49
  EXPECT_EQ(out[10].timestamp, 25u * 40);
  EXPECT_TRUE(out[10].keyframe);
  EXPECT_EQ(d.counters().dropped_frames, 15u);
}

TEST(Vp8Depacketizer, ALostMarkerEndsTheFrameAtTheNextTimestamp) {
  const auto stream = test::vp8_stream();
  rtp_depacketizer d;
  sender s;
  std::vector<frame> out;
  auto one = s.payloads(data_of(stream[0]), 100000);
  auto two = s.payloads(data_of(stream[1]), 100000);
  d.push(packet_of(one[0], 1, 0, false), out);  // no marker
  d.push(packet_of(two[0], 2, 3600, true), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(data_of(out[0]), data_of(stream[0]));
  // Late and repeated packets are ignored.
  d.push(packet_of(one[0], 1, 0, true), out);
  d.push(packet_of(two[0], 2, 3600, true), out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(Vp8Depacketizer, StartsAtAKeyframeAndIgnoresMalformedPayloads) {
  const auto stream = test::vp8_stream();
  rtp_depacketizer d;
  sender s;
  std::vector<frame> out;
  // Joined at an inter frame: nothing until the keyframe.
  auto inter = s.payloads(data_of(stream[3]), 100000);
  d.push(packet_of(inter[0], 1, 0, true), out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(d.wants_keyframe());
  d.push(packet_of({0x80}, 2, 3600, true), out);  // a descriptor that runs out
  d.push(packet_of({}, 3, 7200, true), out);
  EXPECT_EQ(d.counters().malformed, 2u);
  auto key = s.payloads(data_of(stream[0]), 100000);
  d.push(packet_of(key[0], 4, 10800, true), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].keyframe);
  // A frame larger than the limit is dropped, not grown without bound.
  rtp_depacketizer small(64);
  sender t;
  auto big = t.payloads(data_of(stream[0]), 50);
  for (std::size_t i = 0; i < big.size(); ++i) small.push(packet_of(big[i], static_cast<std::uint16_t>(i), 0, i + 1 == big.size()), out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(small.counters().dropped_frames, 1u);
}

TEST(Vp8FlvBody, RoundTripsThroughTheFrameModel) {
  const bytes_t data = {0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A};
  auto f = make_frame(track::video, 5, flv_body(true, data));
  EXPECT_EQ(f.codec, codec::vp8);
  EXPECT_TRUE(f.keyframe);
  EXPECT_FALSE(f.config);
  EXPECT_EQ(data_of(f), data);
  EXPECT_TRUE(is_keyframe(data));
  EXPECT_FALSE(is_keyframe(bytes_t{0x11}));
  // Not a VP8 coded frame: no data.
  EXPECT_TRUE(frame_data(make_frame(track::video, 5, shared_buffer::copy_of(std::as_bytes(std::span(data))))).empty());
}

}  // namespace
}  // namespace junction::media::vp8
