#include "media/rtp/transport_cc_receiver.hpp"

#include <gtest/gtest.h>

#include "media/rtp/header_extension.hpp"
#include "media/rtp/rtcp.hpp"

namespace junction::media::rtp {
namespace {

// A packet's header with one-byte extension elements (RFC 8285 §4.2) as Chromium writes them:
// id 3 the transport-wide sequence number, id 1 the mid, padding between.
header with_extension(std::vector<std::uint8_t>& words) {
  header h;
  h.has_extension = true;
  h.extension_profile = 0xBEDE;
  words = {0x10, '0', 0x00, 0x31, 0x12, 0x34, 0x00, 0x00};
  h.extension = words;
  return h;
}

TEST(HeaderExtension, FindsOneByteElementsPastPadding) {
  std::vector<std::uint8_t> words;
  auto h = with_extension(words);
  auto mid = find_extension(h, 1);
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->size(), 1u);
  EXPECT_EQ((*mid)[0], '0');
  EXPECT_EQ(transport_sequence(h, 3), 0x1234);
  EXPECT_FALSE(find_extension(h, 2));
  EXPECT_FALSE(transport_sequence(h, 1));  // one byte: not a sequence number
}

TEST(HeaderExtension, FindsTwoByteElementsAndRefusesWhatRunsPast) {
  header h;
  h.has_extension = true;
  h.extension_profile = 0x1000;
  std::vector<std::uint8_t> words = {0x07, 0x02, 0xab, 0xcd, 0x09, 0x08, 0x00, 0x00};
  h.extension = words;
  EXPECT_EQ(transport_sequence(h, 7), 0xabcd);
  EXPECT_FALSE(find_extension(h, 9));  // its 8 bytes run past the extension
  h.extension_profile = 0x1234;        // neither form
  EXPECT_FALSE(find_extension(h, 7));
  h.has_extension = false;
  EXPECT_FALSE(find_extension(h, 7));
}

// What a feedback tells, read back through the RTCP parser: which sequence numbers came and when
// (arrival times rebuilt from the reference time and the deltas, as the sender does).
struct told {
  std::uint16_t base = 0;
  std::vector<std::pair<bool, std::int64_t>> packets;  // received, arrival in µs
};
told read_back(const transport_feedback& f) {
  std::vector<std::uint8_t> wire;
  write_transport_feedback(f, wire);
  auto parsed = parse_rtcp(wire);
  EXPECT_TRUE(parsed.ok());
  const auto& fb = std::get<feedback>(parsed.packets.at(0));
  EXPECT_TRUE(fb.transport);
  told t;
  t.base = fb.transport->base_sequence;
  std::int64_t at = std::int64_t{fb.transport->reference_time} * 64'000;
  for (const auto& s : fb.transport->packets) {
    if (s.received) at += std::int64_t{s.delta} * transport_feedback::delta_unit_us;
    t.packets.emplace_back(s.received, s.received ? at : 0);
  }
  return t;
}

TEST(TransportCcReceiver, ReportsArrivalsAndGapsSinceTheLastFeedback) {
  transport_cc_receiver r;
  EXPECT_FALSE(r.take(1, 2));  // nothing came
  const std::int64_t t0 = 10'000'000;
  r.on_packet(100, t0);
  r.on_packet(101, t0 + 5'000);
  r.on_packet(103, t0 + 12'250);  // 102 lost
  auto f = r.take(1, 2);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->feedback_count, 0);
  auto t = read_back(*f);
  EXPECT_EQ(t.base, 100);
  ASSERT_EQ(t.packets.size(), 4u);
  EXPECT_EQ(t.packets[0], std::make_pair(true, t0));
  EXPECT_EQ(t.packets[1], std::make_pair(true, t0 + 5'000));
  EXPECT_FALSE(t.packets[2].first);
  EXPECT_EQ(t.packets[3], std::make_pair(true, t0 + 12'250));

  // The next one starts where that one ended; 102 arriving now is too late to tell.
  r.on_packet(102, t0 + 20'000);
  r.on_packet(104, t0 + 20'000);
  auto g = r.take(1, 2);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->feedback_count, 1);
  auto u = read_back(*g);
  EXPECT_EQ(u.base, 104);
  ASSERT_EQ(u.packets.size(), 1u);
  EXPECT_EQ(u.packets[0], std::make_pair(true, t0 + 20'000));
}

TEST(TransportCcReceiver, FollowsTheSequenceAcrossItsWrapAndReordering) {
  transport_cc_receiver r;
  const std::int64_t t0 = 1'000'000;
  r.on_packet(65534, t0);
  r.on_packet(0, t0 + 2'000);      // 65535 late
  r.on_packet(65535, t0 + 3'000);  // arrives after 0
  r.on_packet(1, t0 + 4'000);
  auto t = read_back(*r.take(5, 6));
  EXPECT_EQ(t.base, 65534);
  ASSERT_EQ(t.packets.size(), 4u);
  EXPECT_EQ(t.packets[1], std::make_pair(true, t0 + 3'000));  // 65535, reported in order
  EXPECT_EQ(t.packets[2], std::make_pair(true, t0 + 2'000));  // 0: a negative delta
  EXPECT_EQ(t.packets[3], std::make_pair(true, t0 + 4'000));
}

TEST(TransportCcReceiver, ALongPauseSplitsTheFeedback) {
  transport_cc_receiver r;
  r.on_packet(1, 1'000'000);
  r.on_packet(2, 1'000'000 + 10'000'000);  // ten seconds later: beyond a 16-bit delta
  auto first = read_back(*r.take(1, 1));
  ASSERT_EQ(first.packets.size(), 1u);
  auto second = read_back(*r.take(1, 1));
  EXPECT_EQ(second.base, 2);
  ASSERT_EQ(second.packets.size(), 1u);
  EXPECT_EQ(second.packets[0], std::make_pair(true, std::int64_t{11'000'000}));
  EXPECT_FALSE(r.take(1, 1));
}

}  // namespace
}  // namespace junction::media::rtp
