// The gateway's call-media core: SDP in, decisions out. The phone's side is played by the same
// offer/answer code a phone would run (media::sdp) or by hand-written SDP, so hold, resume, moves
// and re-keying are tested without a phone.
#include "gateway/call_media.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace junction::gateway {
namespace {

namespace sdp = media::sdp;

call_media::settings settings(std::string srtp = "off") {
  call_media::settings s;
  s.address = "127.0.0.1";
  s.srtp = std::move(srtp);
  s.session_id = 42;
  int n = 0;
  s.make_key = [n](std::string_view) mutable {
    // 30 bytes of key and salt in base64, different each call.
    return fmt::format("inline:{:0>40}", ++n);
  };
  return s;
}

sdp::session_description parsed(std::string_view text) {
  auto p = sdp::parse(text);
  EXPECT_TRUE(p.ok()) << p.describe() << "\n" << text;
  return p.ok() ? *p.session : sdp::session_description{};
}

// A phone's SDP: one audio line ("0 101": PCMU and telephone-event) and optionally video.
std::string phone_sdp(std::string_view address, std::uint16_t port, std::string_view direction = "sendrecv",
                      std::string_view formats = "0 101", int version = 1, std::string_view video = {}) {
  std::string s = fmt::format(
      "v=0\r\no=phone 7 {} IN IP4 {}\r\ns=-\r\nc=IN IP4 {}\r\nt=0 0\r\nm=audio {} RTP/AVP {}\r\n"
      "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
      "a={}\r\n",
      version, address, address, port, formats, direction);
  if (!video.empty()) s += video;
  return s;
}

// What a phone offering PCMU and telephone-event answers with (RFC 3264, by media::sdp).
std::string phone_answer(std::string_view offer, std::uint16_t port, bool with_h264 = false) {
  sdp::local_endpoint phone;
  phone.address = "192.0.2.7";
  phone.srtp = sdp::srtp_policy::off;
  phone.media.push_back({"audio", {{0, "PCMU", 8000, 1, {}}}, true});
  if (with_h264) phone.media.push_back({"video", {{96, "H264", 90000, 1, "packetization-mode=1"}}, false});
  std::vector<std::uint16_t> ports(parsed(offer).media.size(), port);
  for (std::size_t i = 1; i < ports.size(); ++i) ports[i] = static_cast<std::uint16_t>(port + 2 * i);
  auto result = sdp::answer_offer(parsed(offer), phone, ports, 9);
  return sdp::serialize(result.answer);
}

const leg_update* update_for(const std::vector<leg_update>& updates, std::string_view media) {
  for (const auto& u : updates)
    if (u.media == media) return &u;
  return nullptr;
}

// A call up with a phone at 192.0.2.7:5004, PCMU and DTMF, placed by the client.
struct CallUp : ::testing::Test {
  call_media media{settings()};
  std::string local_sdp;  // what we last sent, as the SIP agent keeps it
  std::optional<media_start> start;

  void SetUp() override {
    const std::vector<std::string> names{"pcmu", "dtmf"};
    auto needs = media.plan_offer(names);
    ASSERT_EQ(needs, std::vector<port_need>{port_need::audio});
    local_sdp = media.make_offer(std::vector<std::uint16_t>{40000});
    start = media.answered(phone_answer(local_sdp, 5004));
    ASSERT_TRUE(start);
  }
};

TEST_F(CallUp, TheOfferNamesOurPortAndTheClientsCodecs) {
  auto offer = parsed(local_sdp);
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].port, 40000);
  EXPECT_EQ(offer.address_of(offer.media[0]), "127.0.0.1");
  ASSERT_GE(offer.media[0].codecs.size(), 2u);
  EXPECT_EQ(offer.media[0].codecs[0].encoding, "PCMU");
  EXPECT_EQ(offer.media[0].codecs.back().encoding, "telephone-event");
  EXPECT_EQ(offer.session_id, 42u);
}

TEST_F(CallUp, TheAnswerStartsAnAudioLegTowardsThePhone) {
  EXPECT_TRUE(media.up());
  EXPECT_FALSE(start->xflv);
  EXPECT_FALSE(start->video);
  EXPECT_EQ(start->phone_audio.encoding, "PCMU");
  EXPECT_EQ(start->audio.remote_address, "192.0.2.7");
  EXPECT_EQ(start->audio.remote_port, 5004);
  ASSERT_TRUE(start->telephone_event);
  EXPECT_EQ(start->plan.audio_callback, "pcmu");
  EXPECT_FALSE(start->srtp());
}

TEST_F(CallUp, TheClientsHoldAndResume) {
  auto step = media.hold(true, local_sdp);
  ASSERT_TRUE(step.reoffer) << step.error.message();
  auto reoffer = parsed(*step.reoffer);
  EXPECT_EQ(reoffer.media[0].dir, sdp::direction::sendonly);
  EXPECT_EQ(reoffer.media[0].port, 40000);
  EXPECT_GT(reoffer.session_version, parsed(local_sdp).session_version);
  EXPECT_TRUE(media.hold_pending());
  EXPECT_EQ(media.hold(false, local_sdp).error, call_media_errc::reinvite_under_way);

  auto result = media.reanswered(phone_answer(*step.reoffer, 5004));  // recvonly
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->error);
  EXPECT_TRUE(media.holding());
  EXPECT_FALSE(media.held());
  auto* audio = update_for(result->updates, "audio");
  ASSERT_TRUE(audio);
  EXPECT_TRUE(audio->sending);  // sendonly: we still send (music, silence), the phone does not
  local_sdp = *step.reoffer;

  EXPECT_TRUE(media.hold(true, local_sdp).already);  // nothing to change
  step = media.hold(false, local_sdp);
  ASSERT_TRUE(step.reoffer);
  EXPECT_EQ(parsed(*step.reoffer).media[0].dir, sdp::direction::sendrecv);
  result = media.reanswered(phone_answer(*step.reoffer, 5004));
  ASSERT_TRUE(result);
  EXPECT_FALSE(media.holding());
}

TEST_F(CallUp, AReInviteRefusedLeavesTheHoldAsItWas) {
  auto step = media.hold(true, local_sdp);
  ASSERT_TRUE(step.reoffer);
  media.reinvite_failed();
  EXPECT_FALSE(media.hold_pending());
  EXPECT_FALSE(media.holding());
  EXPECT_FALSE(media.reanswered(phone_answer(*step.reoffer, 5004)));  // a late answer changes nothing
  EXPECT_FALSE(media.holding());
}


TEST_F(CallUp, ThePhonesHoldStopsOurRtpAndItsResumeStartsIt) {
  auto r = media.reoffered(phone_sdp("192.0.2.7", 5004, "sendonly", "0 101", 2), local_sdp);
  ASSERT_EQ(r.status, 200) << r.why.message();
  EXPECT_TRUE(r.held_changed);
  EXPECT_TRUE(media.held());
  auto answer = parsed(r.answer);
  EXPECT_EQ(answer.media[0].dir, sdp::direction::recvonly);
  EXPECT_EQ(answer.media[0].port, 40000);  // the same port
  auto* audio = update_for(r.updates, "audio");
  ASSERT_TRUE(audio);
  EXPECT_FALSE(audio->sending);

  r = media.reoffered(phone_sdp("192.0.2.7", 5004, "sendrecv", "0 101", 3), local_sdp);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.held_changed);
  EXPECT_FALSE(media.held());
  EXPECT_TRUE(update_for(r.updates, "audio")->sending);
  EXPECT_EQ(parsed(r.answer).media[0].dir, sdp::direction::sendrecv);
}

TEST_F(CallUp, AnOldStyleHoldKeepsTheAddressWhereItWas) {
  auto r = media.reoffered(phone_sdp("0.0.0.0", 5004, "sendrecv", "0 101", 2), local_sdp);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(media.held());
  auto* audio = update_for(r.updates, "audio");
  ASSERT_TRUE(audio);
  EXPECT_FALSE(audio->sending);
  EXPECT_FALSE(audio->remote);  // not retargeted at 0.0.0.0
}

TEST_F(CallUp, APhoneThatMovesIsFollowed) {
  auto r = media.reoffered(phone_sdp("192.0.2.9", 6000, "sendrecv", "0 101", 2), local_sdp);
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.held_changed);
  auto* audio = update_for(r.updates, "audio");
  ASSERT_TRUE(audio && audio->remote);
  EXPECT_EQ(*audio->remote, std::pair(std::string{"192.0.2.9"}, std::uint16_t{6000}));
  EXPECT_TRUE(audio->sending);
}

TEST_F(CallUp, WhileWeHoldThePhonesReOfferIsAnsweredSendOnly) {
  auto step = media.hold(true, local_sdp);
  ASSERT_TRUE(media.reanswered(phone_answer(*step.reoffer, 5004)));
  local_sdp = *step.reoffer;
  auto r = media.reoffered(phone_sdp("192.0.2.7", 5004, "sendrecv", "0 101", 2), local_sdp);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(parsed(r.answer).media[0].dir, sdp::direction::sendonly);
  EXPECT_FALSE(media.held());
}

TEST_F(CallUp, AReOfferThatDropsTheCallsCodecIsRefused) {
  auto r = media.reoffered(phone_sdp("192.0.2.7", 5004, "sendrecv", "8", 2), local_sdp);  // PCMA only
  EXPECT_EQ(r.status, 488);
  EXPECT_EQ(r.why, call_media_errc::codec_dropped);
  EXPECT_EQ(r.medium, "audio");
  EXPECT_TRUE(r.updates.empty());
}

TEST_F(CallUp, AReOfferWithOtherMediaLinesIsRefused) {
  auto r = media.reoffered(phone_sdp("192.0.2.7", 5004, "sendrecv", "0 101", 2,
                                     "m=video 5006 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"),
                           local_sdp);
  EXPECT_EQ(r.status, 488);
  EXPECT_EQ(r.why, call_media_errc::reoffer_mismatch);
  EXPECT_EQ(media.reoffered("garbage", local_sdp).status, 488);
}

TEST_F(CallUp, AnUnreadableAnswerToOurHoldIsAHoldFailure) {
  auto step = media.hold(true, local_sdp);
  ASSERT_TRUE(step.reoffer);
  auto result = media.reanswered("v=0\r\nnot sdp\r\n");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error, call_media_errc::answer_unreadable);
  EXPECT_EQ(result->error.category().name(), std::string("gateway.call_media"));
  EXPECT_EQ(result->detail, "line 2: not <type>=<value>");
  EXPECT_TRUE(result->updates.empty());
  EXPECT_FALSE(media.holding());  // the hold did not happen
  EXPECT_FALSE(media.hold_pending());
  EXPECT_TRUE(media.hold(true, local_sdp).reoffer);  // and may be asked again
}

TEST_F(CallUp, NothingIsHeldOnceTheCallEnded) {
  media.ended();
  EXPECT_FALSE(media.up());
  EXPECT_EQ(media.hold(true, local_sdp).error, call_media_errc::no_call);
  EXPECT_EQ(media.reoffered(phone_sdp("192.0.2.7", 5004), local_sdp).status, 488);
}

TEST(CallMedia, AnAnswerWithNothingInCommonStartsNothing) {
  call_media media{settings()};
  const std::vector<std::string> names{"pcmu"};
  media.plan_offer(names);
  auto offer = media.make_offer(std::vector<std::uint16_t>{40000});
  auto answer = parsed(offer);
  answer.media[0].port = 0;  // refused
  EXPECT_FALSE(media.answered(sdp::serialize(answer)));
  EXPECT_FALSE(media.answered("not sdp"));
  EXPECT_FALSE(media.up());
}

TEST(CallMedia, AnIncomingCallWithVideoStartsBothLegs) {
  call_media media{settings()};
  media.offered(phone_sdp("192.0.2.7", 5004, "sendrecv", "0 101", 1,
                          "m=video 5006 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n"));
  const std::vector<std::string> names{"pcmu", "h264", "dtmf"};
  auto needs = media.plan_answer(names);
  ASSERT_TRUE(needs);
  EXPECT_EQ(*needs, (std::vector<port_need>{port_need::audio, port_need::video}));
  auto answer = media.make_answer(std::vector<std::uint16_t>{40000, 40002});
  ASSERT_TRUE(answer);
  auto a = parsed(*answer);
  EXPECT_EQ(a.media[0].port, 40000);
  EXPECT_EQ(a.media[1].port, 40002);
  auto start = media.accepted();
  ASSERT_TRUE(start);
  ASSERT_TRUE(start->video);
  EXPECT_EQ(start->video->remote_port, 5006);
  EXPECT_EQ(start->video->codecs.front().encoding, "H264");
  EXPECT_EQ(start->phone_audio.encoding, "PCMU");
}

TEST(CallMedia, AClientWithoutVideoLeavesThePhonesVideoUnbound) {
  call_media media{settings()};
  media.offered(phone_sdp("192.0.2.7", 5004, "sendrecv", "0 101", 1,
                          "m=video 5006 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"));
  const std::vector<std::string> names{"pcmu"};
  auto needs = media.plan_answer(names);
  ASSERT_TRUE(needs);
  EXPECT_EQ(*needs, (std::vector<port_need>{port_need::audio, port_need::none}));
  auto answer = media.make_answer(std::vector<std::uint16_t>{40000, 0});
  ASSERT_TRUE(answer);
  EXPECT_EQ(parsed(*answer).media[1].port, 0);
  auto start = media.accepted();
  ASSERT_TRUE(start);
  EXPECT_FALSE(start->video);
}

TEST(CallMedia, AnOfferWeCannotReadOrShareIsNotAnswered) {
  call_media media{settings()};
  media.offered("not sdp");
  const std::vector<std::string> names{"pcmu"};
  EXPECT_FALSE(media.plan_answer(names));
  media.offered(phone_sdp("192.0.2.7", 5004, "sendrecv", "8"));  // PCMA only
  const std::vector<std::string> opus{"opus"};
  ASSERT_TRUE(media.plan_answer(opus));
  EXPECT_FALSE(media.make_answer(std::vector<std::uint16_t>{40000}));
  EXPECT_FALSE(media.accepted());
}

TEST(CallMedia, AnOfferNoClientCouldAnswerIsKnownBeforeTheClientIsRung) {
  const std::string plain = phone_sdp("192.0.2.7", 5004);
  const std::string secure =
      "v=0\r\no=phone 7 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
      "m=audio 5004 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(40, 'A') + "\r\n";
  call_media required{settings("required")};
  required.offered(plain);
  EXPECT_FALSE(required.answerable());  // gateway.srtp = "required" and plain RTP
  required.offered(secure);
  EXPECT_TRUE(required.answerable());
  call_media off{settings("off")};
  off.offered(secure);
  EXPECT_FALSE(off.answerable());
  call_media answer{settings("answer")};
  for (const auto& offer : {plain, secure}) {
    answer.offered(offer);
    EXPECT_TRUE(answer.answerable()) << offer;
  }
  answer.offered("not sdp");
  EXPECT_FALSE(answer.answerable());
  answer.offered(phone_sdp("192.0.2.7", 5004, "sendrecv", "3"));  // GSM only: nothing we speak
  EXPECT_FALSE(answer.answerable());
  // Asking leaves nothing behind: the client's own list still decides the answer.
  answer.offered(plain);
  ASSERT_TRUE(answer.answerable());
  const std::vector<std::string> pcmu{"pcmu"};
  ASSERT_TRUE(answer.plan_answer(pcmu));
  auto sdp = answer.make_answer(std::vector<std::uint16_t>{40000});
  ASSERT_TRUE(sdp);
  EXPECT_NE(sdp->find("m=audio 40000 RTP/AVP 0"), std::string::npos) << *sdp;
  auto start = answer.accepted();
  ASSERT_TRUE(start);
  EXPECT_EQ(start->plan.audio_callback, "pcmu");
}

TEST(CallMedia, TwoGatewaysCarryRtmpAsXflv) {
  call_media media{settings()};
  media.plan_offer({});  // siprtmp's default list: wideband, dtmf, flv
  auto offer = media.make_offer(std::vector<std::uint16_t>{40000, 40002});
  auto o = parsed(offer);
  ASSERT_EQ(o.media.size(), 2u);
  EXPECT_EQ(o.media[1].codecs.front().encoding, "x-flv");
  // The other gateway answers x-flv on video and refuses nothing.
  sdp::local_endpoint other;
  other.address = "192.0.2.8";
  other.srtp = sdp::srtp_policy::off;
  other.media.push_back({"audio", o.media[0].codecs, false});
  other.media.push_back({"video", o.media[1].codecs, false});
  auto answer = sdp::answer_offer(o, other, std::vector<std::uint16_t>{7000, 7002}, 3);
  auto start = media.answered(sdp::serialize(answer.answer));
  ASSERT_TRUE(start);
  ASSERT_TRUE(start->xflv);
  EXPECT_EQ(start->xflv->remote_port, 7002);
  EXPECT_EQ(start->xflv_codec->encoding, "x-flv");
  EXPECT_TRUE(media.up());
}

TEST(CallMedia, SrtpKeysThatChangeInAReOfferAreUsed) {
  call_media media{settings("required")};
  const std::vector<std::string> names{"pcmu"};
  media.plan_offer(names);
  const auto offer = media.make_offer(std::vector<std::uint16_t>{40000});
  auto o = parsed(offer);
  ASSERT_FALSE(o.media[0].cryptos.empty());
  const std::string key1 = "inline:" + std::string(40, 'A'), key2 = "inline:" + std::string(40, 'B');
  auto keyed = [&](const std::string& key, int version) {
    return fmt::format("v=0\r\no=phone 7 {} IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
                       "m=audio 5004 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{} {} {}\r\n",
                       version, o.media[0].cryptos[0].tag, o.media[0].cryptos[0].suite, key);
  };
  auto start = media.answered(keyed(key1, 1));
  ASSERT_TRUE(start);
  EXPECT_TRUE(start->srtp());
  EXPECT_EQ(start->audio.remote_crypto->key_params, key1);
  auto same = media.reoffered(keyed(key1, 2), offer);
  ASSERT_EQ(same.status, 200) << same.why.message();
  EXPECT_FALSE(update_for(same.updates, "audio")->keys);
  auto rekeyed = media.reoffered(keyed(key2, 3), offer);
  ASSERT_EQ(rekeyed.status, 200) << rekeyed.why.message();
  auto* audio = update_for(rekeyed.updates, "audio");
  ASSERT_TRUE(audio && audio->keys);
  EXPECT_EQ(audio->keys->second.key_params, key2);
}

}  // namespace
}  // namespace junction::gateway
