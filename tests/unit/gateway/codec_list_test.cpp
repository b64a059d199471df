#include "gateway/codec_list.hpp"

#include <gtest/gtest.h>

#include "media/sdp/session.hpp"

namespace junction::gateway {
namespace {

using media::sdp::parse;

// Junction offers what the list asks for; the phone answers; the plan says what happens.
call_media_plan negotiate(const std::vector<std::string>& names, std::string_view phone_answer) {
  auto list = parse_codec_list(names);
  media::sdp::local_endpoint local;
  local.media = capabilities(list);
  local.srtp = media::sdp::srtp_policy::off;
  std::vector<std::uint16_t> ports(local.media.size(), 40000);
  auto offer = media::sdp::make_offer(local, ports, 1, 1);
  auto answer = parse(phone_answer);
  EXPECT_TRUE(answer.ok()) << answer.error;
  auto agreed = media::sdp::read_answer(offer, *answer.session, local);
  return plan(list, agreed);
}

constexpr std::string_view pcmu_phone =
    "v=0\r\no=- 1 1 IN IP4 p\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nm=audio 5000 RTP/AVP 0 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\nm=video 0 RTP/AVP 98\r\n";

TEST(CodecList, NamesAndTheDefault) {
  std::vector<std::string> names{"Wideband", "bogus", "dtmf", "wideband", "h264"};
  auto list = parse_codec_list(names);
  EXPECT_TRUE(list.given);
  EXPECT_EQ(list.choices, (std::vector<codec_choice>{codec_choice::wideband, codec_choice::dtmf, codec_choice::h264}));
  EXPECT_EQ(list.unknown, std::vector<std::string>{"bogus"});
  auto none = parse_codec_list({});
  EXPECT_FALSE(none.given);
  EXPECT_EQ(none.choices, (std::vector<codec_choice>{codec_choice::wideband, codec_choice::dtmf, codec_choice::flv}));
}

TEST(CodecList, WhatIsOfferedForAList) {
  std::vector<std::string> names{"wideband", "narrowband", "pcmu", "pcma", "ulaw", "alaw", "dtmf", "h264", "flv"};
  auto caps = capabilities(parse_codec_list(names));
  ASSERT_EQ(caps.size(), 2u);
  std::vector<std::string> audio;
  for (const auto& c : caps[0].codecs) audio.push_back(c.encoding + "/" + std::to_string(c.clock_rate));
  EXPECT_EQ(audio, (std::vector<std::string>{"speex/16000", "speex/8000", "PCMU/8000", "PCMA/8000"}));  // ulaw = pcmu in SDP
  EXPECT_TRUE(caps[0].telephone_event);
  EXPECT_EQ(caps[1].codecs[0].encoding, "H264");
  EXPECT_EQ(caps[1].codecs[1].encoding, "x-flv");
}

TEST(CodecList, AG711PhoneAndAFlashPlayer11ClientNeedNoTranscoding) {
  auto p = negotiate({"wideband", "narrowband", "pcmu", "pcma", "ulaw", "alaw", "dtmf", "h264", "flv"}, pcmu_phone);
  EXPECT_EQ(p.audio, codec_choice::pcmu);
  EXPECT_EQ(p.audio_callback, "pcmu");
  EXPECT_FALSE(p.video_callback);  // the phone refused video: the client stops publishing it
  EXPECT_EQ(p.client_audio, media::codec::g711u);
  EXPECT_FALSE(p.transcode_audio);
  EXPECT_TRUE(p.dtmf);
}

TEST(CodecList, AFlashPlayer10ClientSendsSpeexAndJunctionTranscodes) {
  auto p = negotiate({"wideband", "ulaw", "alaw", "dtmf"}, pcmu_phone);
  EXPECT_EQ(p.audio, codec_choice::ulaw);
  EXPECT_EQ(p.audio_callback, "speex");
  EXPECT_EQ(p.client_audio, media::codec::speex);
  EXPECT_TRUE(p.transcode_audio);
  EXPECT_EQ(p.phone_audio.encoding, "PCMU");
}

TEST(CodecList, AnotherGatewayTakesXflvForEverything) {
  auto p = negotiate({}, "v=0\r\no=- 1 1 IN IP4 p\r\ns=-\r\nc=IN IP4 192.0.2.8\r\nm=audio 5000 RTP/AVP 96\r\n"
                         "a=rtpmap:96 speex/16000\r\nm=video 5002 RTP/AVP 99\r\na=rtpmap:99 x-flv/90000\r\n");
  EXPECT_TRUE(p.xflv);
  EXPECT_FALSE(p.audio);  // carried inside x-flv
  EXPECT_FALSE(p.audio_callback);  // no list given: `accepted` gets no arguments
  EXPECT_FALSE(p.video_callback);
  auto listed = negotiate({"wideband", "flv"}, "v=0\r\no=- 1 1 IN IP4 p\r\ns=-\r\nc=IN IP4 192.0.2.8\r\n"
                                              "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 speex/16000\r\n"
                                              "m=video 5002 RTP/AVP 99\r\na=rtpmap:99 x-flv/90000\r\n");
  EXPECT_EQ(listed.audio_callback, "default");
  EXPECT_EQ(listed.video_callback, "default");
}

}  // namespace
}  // namespace junction::gateway
