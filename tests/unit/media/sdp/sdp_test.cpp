#include <gtest/gtest.h>

#include "media/sdp/negotiation.hpp"
#include "media/sdp/session.hpp"

namespace junction::media::sdp {
namespace {

// An offer as baresip 1.0 writes it (audio with PCMU/PCMA and DTMF), plus a video line.
constexpr std::string_view phone_offer =
    "v=0\r\n"
    "o=- 1406458736 1802598102 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 31000 RTP/AVP 0 8 101\r\n"
    "b=AS:64\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-mux\r\n"
    "a=ssrc:1234 cname:abc\r\n"
    "a=ptime:20\r\n"
    "m=video 31002 RTP/AVP 96 97\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=42e028;packetization-mode=1\r\n"
    "a=rtpmap:97 H264/90000\r\n"
    "a=fmtp:97 profile-level-id=42e028;packetization-mode=0\r\n";

local_endpoint junction_side() {
  local_endpoint l;
  l.address = "192.0.2.1";
  l.media = {{"audio", {{8, "PCMA", 8000, 1, {}}, {0, "PCMU", 8000, 1, {}}}, true},
             {"video", {{96, "H264", 90000, 1, "profile-level-id=42e01f;packetization-mode=1"}}, false}};
  l.srtp = srtp_policy::offer;
  l.make_key = [](std::string_view suite) { return "inline:KEYFOR" + std::string(suite); };
  return l;
}

TEST(Sdp, ParsesAPhonesOffer) {
  auto r = parse(phone_offer);
  ASSERT_TRUE(r.ok()) << r.describe();
  const auto& s = *r.session;
  EXPECT_EQ(s.session_id, 1406458736u);
  EXPECT_EQ(s.connection, "192.0.2.10");
  ASSERT_EQ(s.media.size(), 2u);
  const auto& audio = s.media[0];
  EXPECT_EQ(audio.port, 31000);
  ASSERT_EQ(audio.codecs.size(), 3u);
  EXPECT_EQ(audio.codecs[0], (codec{0, "PCMU", 8000, 1, {}}));  // static, no rtpmap needed
  EXPECT_EQ(audio.codecs[2], (codec{101, "telephone-event", 8000, 1, "0-15"}));
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_EQ(audio.ptime, 20u);
  EXPECT_EQ(s.direction_of(audio), direction::sendrecv);
  ASSERT_EQ(audio.other.size(), 2u);  // label and ssrc kept verbatim
  EXPECT_EQ(audio.other[1].value, "1234 cname:abc");
  EXPECT_EQ(s.media[1].codecs[1].fmtp, "profile-level-id=42e028;packetization-mode=0");
  // What it writes reads back the same.
  auto again = parse(serialize(s));
  ASSERT_TRUE(again.ok()) << again.describe();
  EXPECT_EQ(*again.session, s);
}

TEST(Sdp, AnFmtpWithoutItsRtpmapIsKept) {
  // Found by the SDP fuzzer: the fmtp of a dynamic payload type whose rtpmap was missing was
  // lost on the way out.
  auto r = parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 1 RTP/AVP 101\r\na=fmtp:101 0-15\r\n");
  ASSERT_TRUE(r.ok()) << r.describe();
  auto again = parse(serialize(*r.session));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again.session, *r.session);
  EXPECT_EQ(again.session->media[0].codecs[0].fmtp, "0-15");
}

TEST(Sdp, MalformedDescriptionsNameTheLine) {
  EXPECT_EQ(parse("o=- 1 1 IN IP4 1.2.3.4\r\n").describe(), "line 1: the first line must be v=0");
  EXPECT_EQ(parse("v=0\r\ns=-\r\n").describe(), "line 2: o= and s= are required");
  EXPECT_EQ(parse("v=0\r\no=- x 1 IN IP4 a\r\ns=-\r\n").describe(), "line 2: o= session id and version must be numbers");
  EXPECT_EQ(parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio port RTP/AVP 0\r\n").describe(), "line 4: m= port is not a number");
  EXPECT_EQ(parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus\r\n").describe(),
            "line 5: a=rtpmap without a clock rate");
  // Found by the SDP fuzzer: an rtpmap with no name was kept, then not written back.
  EXPECT_EQ(parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=video 1 RTP/AVP 96\r\na=rtpmap:96 /90000\r\n").describe(),
            "line 5: a=rtpmap without an encoding name");
  EXPECT_EQ(parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP9 x\r\n").describe(), "line 4: c= must be IN IP4|IP6 <address>");
  EXPECT_FALSE(parse("v=0\r\nthis is not sdp\r\n").ok());
  std::string many = "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\n";
  for (int i = 0; i < 20; ++i) many += "m=audio 1 RTP/AVP 0\r\n";
  EXPECT_EQ(parse(many).describe(), "line 20: too many media sections");
  EXPECT_FALSE(parse(std::string(20000, 'a')).ok());
}

TEST(OfferAnswer, AnswersWithOurPreferenceUnderTheirPayloadTypes) {
  auto offer = *parse(phone_offer).session;
  std::vector<std::uint16_t> ports{40000, 40002};
  auto result = answer_offer(offer, junction_side(), ports, 77);
  ASSERT_EQ(result.media.size(), 2u);
  const auto& audio = result.media[0];
  ASSERT_TRUE(audio.accepted);
  ASSERT_EQ(audio.codecs.size(), 2u);
  EXPECT_EQ(audio.codecs[0].encoding, "PCMA");  // ours first
  ASSERT_TRUE(audio.telephone_event);
  EXPECT_EQ(audio.telephone_event->payload_type, 101);
  EXPECT_EQ(audio.remote_address, "192.0.2.10");
  EXPECT_EQ(audio.remote_port, 31000);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_EQ(audio.remote_rtcp_port, 31000);
  const auto& video = result.media[1];
  ASSERT_TRUE(video.accepted);
  ASSERT_EQ(video.codecs.size(), 1u);  // mode 0 does not match our mode 1
  EXPECT_EQ(video.codecs[0].payload_type, 96);
  EXPECT_EQ(video.codecs[0].fmtp, "profile-level-id=42e01f;packetization-mode=1");  // level down to ours
  const auto text = serialize(result.answer);
  auto answer = parse(text);
  ASSERT_TRUE(answer.ok()) << answer.describe();
  EXPECT_EQ(answer.session->media[0].formats, (std::vector<std::string>{"8", "0", "101"}));
  EXPECT_EQ(answer.session->media[0].port, 40000);
  EXPECT_NE(text.find("a=sendrecv"), std::string::npos);
}

TEST(OfferAnswer, NoCommonCodecRejectsOnlyThatStream) {
  auto offer = *parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
                      "m=audio 5000 RTP/AVP 18\r\nm=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                      "a=fmtp:96 packetization-mode=1\r\n").session;
  std::vector<std::uint16_t> ports{40000, 40002};
  auto result = answer_offer(offer, junction_side(), ports, 1);
  EXPECT_FALSE(result.media[0].accepted);
  EXPECT_TRUE(result.media[1].accepted);
  EXPECT_TRUE(result.any_accepted());
  auto answer = *parse(serialize(result.answer)).session;
  ASSERT_EQ(answer.media.size(), 2u);  // every offered line keeps its place
  EXPECT_EQ(answer.media[0].port, 0);
  EXPECT_EQ(answer.media[0].formats, std::vector<std::string>{"18"});
  EXPECT_NE(answer.media[1].port, 0);
}

TEST(OfferAnswer, HoldIsAnsweredAndSeen) {
  auto sendonly = *parse("v=0\r\no=- 1 2 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nm=audio 5000 RTP/AVP 0\r\na=sendonly\r\n").session;
  std::vector<std::uint16_t> ports{40000};
  auto held = answer_offer(sendonly, junction_side(), ports, 1);
  EXPECT_TRUE(held.media[0].remote_hold);
  EXPECT_EQ(held.media[0].local, direction::recvonly);
  auto inactive = sendonly;
  inactive.media[0].dir = direction::inactive;
  EXPECT_EQ(answer_offer(inactive, junction_side(), ports, 1).media[0].local, direction::inactive);
  // RFC 2543 hold: c=0.0.0.0.
  auto old_style = *parse("v=0\r\no=- 1 2 IN IP4 a\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nm=audio 5000 RTP/AVP 0\r\n").session;
  auto r = answer_offer(old_style, junction_side(), ports, 1);
  EXPECT_TRUE(r.media[0].remote_hold);
  EXPECT_EQ(r.media[0].local, direction::recvonly);
}

TEST(OfferAnswer, SdesSrtpPicksOurFirstSuiteTheyOffered) {
  auto offer = *parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nm=audio 5000 RTP/SAVP 0\r\n"
                      "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:AAAA\r\n"
                      "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:BBBB|2^20|1:4\r\n").session;
  std::vector<std::uint16_t> ports{40000};
  auto r = answer_offer(offer, junction_side(), ports, 1);
  ASSERT_TRUE(r.media[0].accepted);
  EXPECT_EQ(r.media[0].remote_crypto->tag, 2u);
  EXPECT_EQ(r.media[0].remote_crypto->key_params, "inline:BBBB|2^20|1:4");
  EXPECT_EQ(r.media[0].local_crypto->key_params, "inline:KEYFORAES_CM_128_HMAC_SHA1_80");
  auto answer = *parse(serialize(r.answer)).session;
  EXPECT_EQ(answer.media[0].protocol, "RTP/SAVP");
  ASSERT_EQ(answer.media[0].cryptos.size(), 1u);
  EXPECT_EQ(answer.media[0].cryptos[0].tag, 2u);

  // Only suites we lack: rejected. Plain RTP when SRTP is required: rejected.
  auto unknown = offer;
  unknown.media[0].cryptos = {{1, "F8_128_HMAC_SHA1_80", "inline:CCCC", {}}};
  EXPECT_FALSE(answer_offer(unknown, junction_side(), ports, 1).media[0].accepted);
  auto strict = junction_side();
  strict.srtp = srtp_policy::required;
  auto plain = *parse("v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nm=audio 5000 RTP/AVP 0\r\n").session;
  EXPECT_FALSE(answer_offer(plain, strict, ports, 1).media[0].accepted);
}

TEST(OfferAnswer, OurOfferAndTheirAnswer) {
  auto local = junction_side();
  std::vector<std::uint16_t> ports{40000, 40002};
  auto offer = make_offer(local, ports, 5, 1);
  auto reparsed = parse(serialize(offer));
  ASSERT_TRUE(reparsed.ok()) << reparsed.describe();
  EXPECT_EQ(offer.media[0].protocol, "RTP/SAVP");
  EXPECT_EQ(offer.media[0].cryptos.size(), 3u);
  // The phone takes PCMU and the second crypto line, rejects video.
  auto answer = *parse("v=0\r\no=- 9 9 IN IP4 b\r\ns=-\r\nc=IN IP4 192.0.2.20\r\n"
                       "m=audio 6000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp-mux\r\n"
                       "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:PHONEKEY\r\na=sendrecv\r\n"
                       "m=video 0 RTP/SAVP 96\r\n").session;
  auto agreed = read_answer(offer, answer, local);
  ASSERT_EQ(agreed.size(), 2u);
  ASSERT_TRUE(agreed[0].accepted);
  EXPECT_EQ(agreed[0].codecs[0].encoding, "PCMU");
  EXPECT_TRUE(agreed[0].telephone_event);
  EXPECT_EQ(agreed[0].remote_address, "192.0.2.20");
  EXPECT_TRUE(agreed[0].rtcp_mux);
  EXPECT_EQ(agreed[0].local_crypto->suite, "AES_CM_128_HMAC_SHA1_80");
  EXPECT_EQ(agreed[0].remote_crypto->key_params, "inline:PHONEKEY");
  EXPECT_FALSE(agreed[1].accepted);
}

}  // namespace
}  // namespace junction::media::sdp
