#include "webrtc/demux.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace junction::webrtc {
namespace {

packet_kind of(std::vector<std::uint8_t> d) { return classify(d); }

TEST(WebrtcDemux, TellsPacketsApartByTheirFirstBytes) {
  EXPECT_EQ(of({0x00, 0x01}), packet_kind::stun);        // Binding request
  EXPECT_EQ(of({0x01, 0x01}), packet_kind::stun);        // Binding success
  EXPECT_EQ(of({22, 0xfe, 0xfd}), packet_kind::dtls);    // handshake
  EXPECT_EQ(of({23, 0xfe, 0xfd}), packet_kind::dtls);    // application data
  EXPECT_EQ(of({0x80, 0x6f}), packet_kind::rtp);         // payload type 111 (Opus)
  EXPECT_EQ(of({0x80, 0xe0}), packet_kind::rtp);         // marker + 96
  EXPECT_EQ(of({0x80, 200}), packet_kind::rtcp);         // sender report
  EXPECT_EQ(of({0x81, 205}), packet_kind::rtcp);         // transport feedback (NACK, TWCC)
  EXPECT_EQ(of({0x81, 206}), packet_kind::rtcp);         // PLI, REMB
  EXPECT_EQ(of({0x80}), packet_kind::other);             // too short to tell
  EXPECT_EQ(of({16}), packet_kind::other);               // ZRTP
  EXPECT_EQ(of({64, 0}), packet_kind::other);            // TURN channel
  EXPECT_EQ(of({}), packet_kind::other);
}

}  // namespace
}  // namespace junction::webrtc
