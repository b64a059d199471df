#include "media/h263/rtp_payload.hpp"

#include <gtest/gtest.h>

namespace junction::media::h263 {
namespace {

TEST(H263Rtp, APictureRoundTripsThroughRfc4629Payloads) {
  std::vector<std::uint8_t> picture{0x00, 0x00, 0x80, 0x02, 0x1C};
  for (int i = 0; i < 5000; ++i) picture.push_back(static_cast<std::uint8_t>(i * 7 + 1));
  auto packets = packetize(picture, 1200);
  ASSERT_EQ(packets.size(), 5u);
  EXPECT_EQ(packets[0][0], 0x04);  // P: the start code's zeros left out
  EXPECT_EQ(packets[0][2], 0x80);
  EXPECT_EQ(packets[1][0], 0x00);
  for (const auto& p : packets) EXPECT_LE(p.size(), 1200u);
  depacketizer d;
  for (const auto& p : packets) ASSERT_TRUE(d.push(p));
  EXPECT_EQ(d.take(), picture);
  EXPECT_TRUE(d.take().empty());
}

TEST(H263Rtp, PayloadsItDoesNotTake) {
  depacketizer d;
  std::vector<std::uint8_t> short_one{0x04}, vrc{0x06, 0x00, 1}, extra_header{0x00, 0xF8, 1, 2};
  EXPECT_FALSE(d.push(short_one));
  EXPECT_FALSE(d.push(vrc));
  EXPECT_FALSE(d.push(extra_header));  // PLEN 31 with 2 bytes behind it
}

}  // namespace
}  // namespace junction::media::h263
