#include "media/rtp/dtmf.hpp"

#include <gtest/gtest.h>

namespace junction::media::rtp {
namespace {

TEST(Dtmf, APressIsPacketsThatReadBackAsOneKey) {
  auto packets = dtmf_packets('#', 16000, 200);
  ASSERT_EQ(packets.size(), 3u + 3u);  // updates at 50, 100, 150 ms; the end three times
  EXPECT_TRUE(packets[0].marker);
  EXPECT_FALSE(packets[1].marker);
  auto first = parse_telephone_event(packets[0].payload);
  EXPECT_EQ(first->event, 11);
  EXPECT_EQ(first->duration, 400);  // 50 ms at 8 kHz
  auto last = parse_telephone_event(packets.back().payload);
  EXPECT_TRUE(last->end);
  EXPECT_EQ(last->duration, 1600);

  dtmf_receiver rx;
  std::string keys;
  auto feed = [&](const std::vector<dtmf_packet>& ps) {
    for (const auto& dp : ps) {
      packet p;
      p.header.timestamp = dp.timestamp;
      p.header.marker = dp.marker;
      p.payload = dp.payload;
      if (auto press = rx.on_packet(p)) keys += press->key;
    }
  };
  feed(packets);
  feed(dtmf_packets('1', 17600, 100));
  feed(dtmf_packets('1', 19200, 100));  // the same key again is a new press (new timestamp)
  EXPECT_EQ(keys, "#11");
}

TEST(Dtmf, KeysAndCodes) {
  for (char k : std::string("0123456789*#ABCD!")) EXPECT_EQ(event_key(*key_event(k)), k);
  EXPECT_FALSE(key_event('x'));
  EXPECT_FALSE(event_key(17));
  std::vector<std::uint8_t> short_payload{1, 2};
  EXPECT_FALSE(parse_telephone_event(short_payload));
}

}  // namespace
}  // namespace junction::media::rtp
