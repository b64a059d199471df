#include "media/rtp/rtcp.hpp"

#include <gtest/gtest.h>

#include "media/rtp/receive_statistics.hpp"

namespace junction::media::rtp {
namespace {

TEST(Rtcp, CompoundRoundTrip) {
  sender_report sr{0x11111111, 0x0123456789ABCDEFull, 160000, 1000, 160000,
                   {report_block{0x22222222, 12, -3, 70000, 45, 0xAABBCCDD, 65536}}};
  source_description sdes{0x11111111, "junction@127.0.0.1"};
  goodbye bye{{0x11111111}, "call ended"};
  std::vector<std::uint8_t> out;
  write_sender_report(sr, out);
  write_sdes(sdes, out);
  write_bye(bye, out);
  write_pli(0x11111111, 0x22222222, out);
  write_fir(0x11111111, 0x22222222, 9, out);
  write_nack(0x11111111, 0x22222222, {100, 101, 105, 116, 117, 300}, out);
  EXPECT_EQ(out.size() % 4, 0u);
  EXPECT_TRUE(is_rtcp(out));
  auto r = parse_rtcp(out);
  ASSERT_TRUE(r.ok()) << r.error.message();
  ASSERT_EQ(r.packets.size(), 6u);
  EXPECT_EQ(std::get<sender_report>(r.packets[0]), sr);
  EXPECT_EQ(std::get<source_description>(r.packets[1]), sdes);
  EXPECT_EQ(std::get<goodbye>(r.packets[2]), bye);
  EXPECT_EQ(std::get<feedback>(r.packets[3]).what, feedback::kind::pli);
  const auto& fir = std::get<feedback>(r.packets[4]);
  EXPECT_EQ(fir.what, feedback::kind::fir);
  EXPECT_EQ(fir.media_ssrc, 0x22222222u);
  const auto& nack = std::get<feedback>(r.packets[5]);
  EXPECT_EQ(nack.what, feedback::kind::nack);
  EXPECT_EQ(nack.lost, (std::vector<std::uint16_t>{100, 101, 105, 116, 117, 300}));
}

TEST(Rtcp, ReceiverReportAndNegativeLoss) {
  receiver_report rr{5, {report_block{6, 0, -5, 1, 2, 3, 4}, report_block{7, 255, 0x7FFFFF, 1, 2, 3, 4}}};
  std::vector<std::uint8_t> out;
  write_receiver_report(rr, out);
  auto r = parse_rtcp(out);
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(std::get<receiver_report>(r.packets[0]), rr);
}

TEST(Rtcp, InvalidCompoundsAreRefused) {
  std::vector<std::uint8_t> out;
  write_receiver_report({5, {}}, out);
  auto truncated = out;
  truncated[3] = 9;  // claims more words than there are
  EXPECT_EQ(parse_rtcp(truncated).error, rtcp_errc::bad_length);
  auto trailing = out;
  trailing.push_back(0);
  EXPECT_EQ(parse_rtcp(trailing).error, rtcp_errc::trailing_bytes);
  auto version = out;
  version[0] = 0x40;
  EXPECT_EQ(parse_rtcp(version).error, rtcp_errc::bad_version);
  std::vector<std::uint8_t> many;
  for (int i = 0; i < 40; ++i) write_receiver_report({5, {}}, many);
  EXPECT_EQ(parse_rtcp(many).error, rtcp_errc::too_many_packets);  // over the per-datagram bound
  std::vector<std::uint8_t> sr_short{0x81, 200, 0, 1, 0, 0, 0, 1};  // one block announced, none there
  auto refused = parse_rtcp(sr_short);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.error.category().name(), std::string("rtcp"));
  EXPECT_FALSE(refused.error.message().empty());
  EXPECT_EQ(parse_rtcp(std::vector<std::uint8_t>{0x80, 201}).error, rtcp_errc::too_short);
}

TEST(ReceiveStatistics, ProbationWrapLossAndJitter) {
  receive_statistics s(8000);
  std::int64_t t = 0;
  std::uint32_t ts = 0;
  std::uint16_t seq = 65530;
  // The first packet of a new source is on probation (RFC 3550 A.1).
  EXPECT_FALSE(s.on_packet(seq, ts, t));
  for (int i = 1; i < 20; ++i) {
    ++seq;
    ts += 160;
    t += 20'000;
    if (i == 10 || i == 11) continue;  // two lost
    EXPECT_TRUE(s.on_packet(seq, ts, t));
  }
  EXPECT_EQ(s.extended_highest(), 65536u + 13);  // wrapped once, now at 13
  EXPECT_EQ(s.lost(), 2);
  EXPECT_NEAR(s.jitter_units(), 0.0, 1e-9);  // perfectly paced
  auto b = s.report(99);
  EXPECT_EQ(b.cumulative_lost, 2);
  EXPECT_EQ(b.fraction_lost, (2 * 256) / 19);
  EXPECT_EQ(b.highest_sequence, 65536u + 13);
  EXPECT_EQ(s.report(99).fraction_lost, 0);  // nothing new lost since

  // Late packets put jitter up; a packet arriving 10 ms late adds |160-80|/16 = 5 units.
  ++seq;
  ts += 160;
  t += 30'000;
  EXPECT_TRUE(s.on_packet(seq, ts, t));
  EXPECT_NEAR(s.jitter_units(), 5.0, 1e-9);
}

TEST(ReceiveStatistics, ARestartedSenderIsFollowedAfterTwoPackets) {
  receive_statistics s(8000);
  s.on_packet(100, 0, 0);
  EXPECT_TRUE(s.on_packet(101, 160, 20000));
  EXPECT_FALSE(s.on_packet(40000, 320, 40000));  // a jump: maybe a stray
  EXPECT_TRUE(s.on_packet(40001, 480, 60000));   // confirmed: the new numbering
  EXPECT_EQ(s.extended_highest(), 40001u);
}

TEST(TimestampMapper, UnwrapsAndMapsToMilliseconds) {
  timestamp_mapper m(90000);
  EXPECT_EQ(m.to_milliseconds(0xFFFFF000u), 0u);
  EXPECT_EQ(m.to_milliseconds(0xFFFFF000u + 90000u), 1000u);  // across the 32-bit wrap
  EXPECT_EQ(m.to_milliseconds(0xFFFFF000u + 45000u), 500u);   // reordered: backwards is fine
  EXPECT_EQ(timestamp_mapper::to_rtp(1000, 8000, 5), 8005u);
}

}  // namespace
}  // namespace junction::media::rtp
