#include "media/rtp/audio_payload.hpp"

#include <gtest/gtest.h>

namespace junction::media::rtp {
namespace {

TEST(AudioPayload, ClocksFollowTheRtpProfiles) {
  EXPECT_EQ(rtp_clock_rate(media::codec::g711u, 8000), 8000u);
  EXPECT_EQ(rtp_units(media::codec::g722, 16000, 320), 160u);   // 20 ms of G.722: 160 units
  EXPECT_EQ(rtp_units(media::codec::opus, 16000, 320), 960u);   // Opus counts at 48 kHz
  EXPECT_EQ(rtp_units(media::codec::speex, 16000, 320), 320u);
}

TEST(AudioPayload, AacHbrRoundTrip) {
  std::vector<std::uint8_t> au(371, 0x5A), out;
  write_aac_hbr(au, out);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 16);
  auto back = read_aac_hbr(out);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_TRUE(std::equal(au.begin(), au.end(), (*back)[0].begin(), (*back)[0].end()));
  // Two access units in one payload (what other senders do).
  std::vector<std::uint8_t> two{0, 32, 0, 3 << 3, 0, 2 << 3, 1, 2, 3, 4, 5};
  auto both = read_aac_hbr(two);
  ASSERT_TRUE(both);
  EXPECT_EQ((*both)[1].size(), 2u);
  std::vector<std::uint8_t> lying{0, 16, 0xFF, 0xF8, 1};
  EXPECT_FALSE(read_aac_hbr(lying));
  std::vector<std::uint8_t> odd{0, 13, 0, 8};
  EXPECT_FALSE(read_aac_hbr(odd));
  std::vector<std::uint8_t> asc{0x12, 0x10};
  EXPECT_EQ(aac_hbr_fmtp(asc),
            "streamtype=5;profile-level-id=15;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210");
}

}  // namespace
}  // namespace junction::media::rtp
