#include "media/rtp/retransmission_cache.hpp"

#include <gtest/gtest.h>

#include <string>

#include "media/rtp/packet.hpp"

namespace junction::media::rtp {
namespace {

using namespace std::chrono_literals;
using clock = retransmission_cache::clock;

std::vector<std::uint8_t> video_packet(std::uint16_t sequence, bool marker = false) {
  header h;
  h.payload_type = 102;
  h.sequence = sequence;
  h.timestamp = 90'000u + sequence;
  h.ssrc = 0x1111;
  h.marker = marker;
  const std::string payload = "slice " + std::to_string(sequence);
  std::vector<std::uint8_t> out;
  write_packet(h, {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}, out);
  return out;
}

TEST(RetransmissionCache, AnswersANackWithRtxPacketsCarryingTheOriginal) {
  retransmission_cache cache({.rtx_payload_type = 103, .rtx_ssrc = 0x2222});
  const auto t0 = clock::now();
  for (std::uint16_t s = 65530; s != 6; ++s) cache.store(video_packet(s, s == 2), t0);  // across the wrap
  const std::vector<std::uint16_t> lost = {65534, 2};
  auto out = cache.answer(lost, t0 + 50ms);
  ASSERT_EQ(out.size(), 2u);
  std::uint16_t previous_rtx_sequence = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto rtx = parse_packet(out[i]);
    ASSERT_TRUE(rtx.ok());
    EXPECT_EQ(rtx.packet->header.payload_type, 103);
    EXPECT_EQ(rtx.packet->header.ssrc, 0x2222u);
    const auto original_bytes = video_packet(lost[i], lost[i] == 2);
    const auto original = parse_packet(original_bytes);
    EXPECT_EQ(rtx.packet->header.timestamp, original.packet->header.timestamp);
    EXPECT_EQ(rtx.packet->header.marker, original.packet->header.marker);
    // RFC 4588 §4: the original sequence number, then the original payload.
    const auto p = rtx.packet->payload;
    ASSERT_GE(p.size(), 2u);
    EXPECT_EQ(static_cast<std::uint16_t>(p[0] << 8 | p[1]), lost[i]);
    EXPECT_TRUE(std::equal(p.begin() + 2, p.end(), original.packet->payload.begin(), original.packet->payload.end()));
    if (i) {
      EXPECT_EQ(rtx.packet->header.sequence, static_cast<std::uint16_t>(previous_rtx_sequence + 1));
    }
    previous_rtx_sequence = rtx.packet->header.sequence;
  }
  EXPECT_EQ(cache.stats().resent, 2u);
}

TEST(RetransmissionCache, WithoutRtxResendsThePacketItself) {
  retransmission_cache cache({});
  const auto t0 = clock::now();
  cache.store(video_packet(7), t0);
  const std::vector<std::uint16_t> lost = {7};
  auto out = cache.answer(lost, t0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], video_packet(7));
}

TEST(RetransmissionCache, OldPushedOutAndUnknownPacketsAreMissing) {
  retransmission_cache cache({.capacity = 8, .max_age = 500ms});
  const auto t0 = clock::now();
  for (std::uint16_t s = 0; s < 20; ++s) cache.store(video_packet(s), t0);
  const std::vector<std::uint16_t> pushed_out = {3}, kept = {19}, never = {300};
  EXPECT_TRUE(cache.answer(pushed_out, t0).empty());  // 11 took its slot
  EXPECT_TRUE(cache.answer(never, t0).empty());
  EXPECT_EQ(cache.answer(kept, t0 + 400ms).size(), 1u);
  EXPECT_TRUE(cache.answer(kept, t0 + 900ms).empty());  // too old by now
  EXPECT_EQ(cache.stats().missing, 3u);
  cache.store(std::vector<std::uint8_t>{1, 2, 3}, t0);  // not RTP: not kept, nothing breaks
}

TEST(RetransmissionCache, ARepeatedNackWithinTheIntervalIsNotAnsweredTwice) {
  retransmission_cache cache({.min_interval = 100ms});
  const auto t0 = clock::now();
  cache.store(video_packet(1), t0);
  const std::vector<std::uint16_t> lost = {1};
  EXPECT_EQ(cache.answer(lost, t0 + 10ms).size(), 1u);
  EXPECT_TRUE(cache.answer(lost, t0 + 50ms).empty());
  EXPECT_EQ(cache.answer(lost, t0 + 120ms).size(), 1u);
  EXPECT_EQ(cache.stats().suppressed, 1u);
  EXPECT_EQ(cache.stats().resent, 2u);
}

}  // namespace
}  // namespace junction::media::rtp
