#include "media/rtp/congestion_feedback.hpp"

#include <gtest/gtest.h>

#include "media/rtp/rtcp.hpp"

namespace junction::media::rtp {
namespace {

using bytes_vector = std::vector<std::uint8_t>;

// The one feedback packet of a compound.
feedback only_feedback(const bytes_vector& compound) {
  auto r = parse_rtcp(compound);
  EXPECT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.packets.size(), 1u);
  auto* fb = r.packets.empty() ? nullptr : std::get_if<feedback>(&r.packets[0]);
  return fb ? *fb : feedback{};
}

// A REMB as libwebrtc writes it: 1.2 Mbit/s for one SSRC, mantissa 0x249F0 (150,000) and
// exponent 3.
TEST(Remb, ReadsTheDraftsLayout) {
  const bytes_vector packet = {0x8f, 206, 0x00, 0x05, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
                               'R',  'E',  'M',  'B',  0x01, 0x0e, 0x49, 0xf0, 0xaa, 0xbb, 0xcc, 0xdd};
  auto fb = only_feedback(packet);
  EXPECT_EQ(fb.what, feedback::kind::remb);
  ASSERT_TRUE(fb.estimate);
  EXPECT_EQ(fb.estimate->sender_ssrc, 0x11223344u);
  EXPECT_EQ(fb.estimate->bitrate, 1'200'000u);
  EXPECT_EQ(fb.estimate->ssrcs, std::vector<std::uint32_t>{0xaabbccdd});
  bytes_vector again;
  write_remb(*fb.estimate, again);
  EXPECT_EQ(again, packet);
}

TEST(Remb, RoundTripsLargeAndSmallRates) {
  for (std::uint64_t rate : {0ull, 1ull, 262'143ull, 262'144ull, 30'000'000ull, 5'000'000'000ull}) {
    remb r{7, rate, {1, 2, 3}};
    bytes_vector out;
    write_remb(r, out);
    auto fb = only_feedback(out);
    ASSERT_TRUE(fb.estimate) << rate;
    // 18 bits of mantissa: exact below 2^18, within a part in 2^17 above.
    EXPECT_LE(rate - fb.estimate->bitrate, rate >> 17) << rate;
    EXPECT_EQ(fb.estimate->ssrcs, r.ssrcs);
  }
}

TEST(Remb, RefusesWhatIsNotOne) {
  EXPECT_FALSE(read_remb(1, bytes_vector{'R', 'E', 'M', 'X', 0, 0, 0, 0}));
  EXPECT_FALSE(read_remb(1, bytes_vector{'R', 'E', 'M', 'B', 2, 0, 0, 0, 1, 2, 3, 4}));  // two SSRCs, one there
  // Not a REMB: an application-layer feedback of another kind stays "other".
  const bytes_vector other = {0x8f, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 'A', 'B', 'C', 'D'};
  EXPECT_EQ(only_feedback(other).what, feedback::kind::other);
}

// Base sequence 10, four packets: a run-length chunk of four "small delta" (0x2004), deltas 1, 2,
// 3 and 4 ticks of 250 µs, reference time 1 (64 ms), feedback packet 5.
TEST(TransportFeedback, ReadsARunLengthChunk) {
  const bytes_vector packet = {0x8f, 205, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
                               0x00, 0x0a, 0x00, 0x04, 0x00, 0x00, 0x01, 0x05,
                               0x20, 0x04, 1, 2, 3, 4, 0, 0};
  auto fb = only_feedback(packet);
  ASSERT_EQ(fb.what, feedback::kind::transport_cc);
  const auto& t = *fb.transport;
  EXPECT_EQ(t.base_sequence, 10);
  EXPECT_EQ(t.reference_time, 1);
  EXPECT_EQ(t.feedback_count, 5);
  ASSERT_EQ(t.packets.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(t.packets[i].received);
    EXPECT_EQ(t.packets[i].delta, i + 1);
  }
}

// Status vectors: one-bit (received, missing, received) and two-bit (a large, negative delta).
TEST(TransportFeedback, ReadsStatusVectors) {
  // 0xA800: one-bit vector, symbols 1 0 1 then zeros; count 3.
  const bytes_vector one_bit = {0x00, 0x01, 0x00, 0x03, 0xff, 0xff, 0xff, 0x00, 0xa8, 0x00, 9, 8};
  auto t = read_transport_feedback(1, 2, one_bit);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->reference_time, -1);
  ASSERT_EQ(t->packets.size(), 3u);
  EXPECT_EQ(t->packets[0], (transport_feedback::status{true, 9}));
  EXPECT_FALSE(t->packets[1].received);
  EXPECT_EQ(t->packets[2], (transport_feedback::status{true, 8}));
  // 0xE400: two-bit vector, symbols 2 1 then zeros; count 2: deltas -4 (two bytes) and 7.
  const bytes_vector two_bit = {0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0xe4, 0x00, 0xff, 0xfc, 7};
  t = read_transport_feedback(1, 2, two_bit);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->packets[0], (transport_feedback::status{true, -4}));
  EXPECT_EQ(t->packets[1], (transport_feedback::status{true, 7}));
}

TEST(TransportFeedback, RefusesTruncatedOrReservedContent) {
  EXPECT_FALSE(read_transport_feedback(1, 2, bytes_vector{0, 1, 0, 4, 0, 0, 0, 0}));              // no chunk
  EXPECT_FALSE(read_transport_feedback(1, 2, bytes_vector{0, 1, 0, 4, 0, 0, 0, 0, 0x20, 0x04, 1}));  // 1 delta of 4
  EXPECT_FALSE(read_transport_feedback(1, 2, bytes_vector{0, 1, 0, 1, 0, 0, 0, 0, 0x60, 0x01}));  // run of symbol 3
  EXPECT_FALSE(read_transport_feedback(1, 2, bytes_vector{0, 1, 0, 1, 0, 0, 0, 0, 0xf0, 0x00}));  // two-bit 3
  EXPECT_FALSE(read_transport_feedback(1, 2, bytes_vector{0, 1, 0x7f, 0xff, 0, 0, 0, 0}));        // too many packets
  // A malformed one in a compound is skipped as "other", not the whole compound refused.
  const bytes_vector packet = {0x8f, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 9};
  EXPECT_EQ(only_feedback(packet).what, feedback::kind::other);
}

TEST(TransportFeedback, WritesWhatItReads) {
  transport_feedback f;
  f.sender_ssrc = 1;
  f.media_ssrc = 2;
  f.base_sequence = 65530;  // wraps
  f.reference_time = -5;
  f.feedback_count = 200;
  // Runs long enough for run-length chunks, mixed stretches, large and negative deltas, losses.
  for (int i = 0; i < 40; ++i) f.packets.push_back({true, static_cast<std::int16_t>(i % 3)});
  for (int i = 0; i < 10; ++i) f.packets.push_back({false, 0});
  for (int i = 0; i < 13; ++i)
    f.packets.push_back({i % 2 == 0, static_cast<std::int16_t>(i % 2 == 0 ? (i % 4 == 0 ? -300 : 1000) : 0)});
  bytes_vector out;
  write_transport_feedback(f, out);
  EXPECT_EQ(out.size() % 4, 0u);
  auto fb = only_feedback(out);
  ASSERT_EQ(fb.what, feedback::kind::transport_cc);
  EXPECT_EQ(*fb.transport, f);
}

}  // namespace
}  // namespace junction::media::rtp
