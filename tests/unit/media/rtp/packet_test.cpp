#include "media/rtp/packet.hpp"

#include <gtest/gtest.h>

namespace junction::media::rtp {
namespace {

std::vector<std::uint8_t> hex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    if (h[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(RtpPacket, ReadsEveryHeaderField) {
  // V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0xABCD, ts 0x01020304, SSRC 0xDEADBEEF, two CSRCs,
  // a one-word RFC 8285 extension, 3 payload bytes, 2 bytes of padding.
  auto d = hex("B2E0ABCD01020304DEADBEEF0000000100000002BEDE000110AA0000" "616263" "0002");
  auto r = parse_packet(d);
  ASSERT_TRUE(r.ok()) << r.error.message();
  const auto& p = *r.packet;
  EXPECT_TRUE(p.header.marker);
  EXPECT_EQ(p.header.payload_type, 96);
  EXPECT_EQ(p.header.sequence, 0xABCD);
  EXPECT_EQ(p.header.timestamp, 0x01020304u);
  EXPECT_EQ(p.header.ssrc, 0xDEADBEEFu);
  ASSERT_EQ(p.header.csrc_count, 2);
  EXPECT_EQ(p.header.csrc[1], 2u);
  EXPECT_EQ(p.header.extension_profile, 0xBEDE);
  EXPECT_EQ(p.header.extension.size(), 4u);
  EXPECT_EQ(std::string(p.payload.begin(), p.payload.end()), "abc");
  EXPECT_EQ(p.padding, 2);
}

TEST(RtpPacket, WriteThenReadIsIdentity) {
  header h;
  h.payload_type = 0;
  h.marker = true;
  h.sequence = 65535;
  h.timestamp = 0xFFFFFFF0u;
  h.ssrc = 42;
  h.csrc_count = 1;
  h.csrc[0] = 7;
  std::vector<std::uint8_t> payload(160, 0xFF), out;
  EXPECT_EQ(write_packet(h, payload, out), 12u + 4 + 160);
  auto r = parse_packet(out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.packet->header.sequence, 65535);
  EXPECT_EQ(r.packet->header.timestamp, 0xFFFFFFF0u);
  EXPECT_EQ(r.packet->header.csrc[0], 7u);
  EXPECT_EQ(r.packet->payload.size(), 160u);
  EXPECT_FALSE(is_rtcp(out));
}

TEST(RtpPacket, MalformedPacketsSayWhy) {
  EXPECT_EQ(parse_packet(hex("8000")).error, packet_errc::too_short);
  EXPECT_EQ(parse_packet(hex("4000000100000001 00000001")).error, packet_errc::bad_version);
  EXPECT_EQ(parse_packet(hex("8F00000100000001 00000001")).error, packet_errc::bad_csrc_count);
  EXPECT_EQ(parse_packet(hex("9000000100000001 00000001 BEDE0005")).error, packet_errc::bad_extension);
  EXPECT_EQ(parse_packet(hex("A000000100000001 00000001 6100")).error, packet_errc::bad_padding);  // zero
  EXPECT_EQ(parse_packet(hex("A000000100000001 00000001 61FF")).error, packet_errc::bad_padding);  // too many
}

TEST(RtpPacket, SequenceComparisonWraps) {
  EXPECT_TRUE(sequence_after(1, 0));
  EXPECT_TRUE(sequence_after(0, 65535));
  EXPECT_FALSE(sequence_after(65535, 0));
  EXPECT_FALSE(sequence_after(5, 5));
  EXPECT_TRUE(is_rtcp(hex("80C8")));   // SR
  EXPECT_TRUE(is_rtcp(hex("81CE")));   // PSFB
  EXPECT_FALSE(is_rtcp(hex("8060")));  // PT 96
}

}  // namespace
}  // namespace junction::media::rtp
