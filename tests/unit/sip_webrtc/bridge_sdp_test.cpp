#include "sip_webrtc/bridge_sdp.hpp"

#include <gtest/gtest.h>

#include <set>

#include "media/sdp/negotiation.hpp"
#include "tests/unit/webrtc/vectors.hpp"

namespace junction::sip_webrtc {
namespace {

namespace sdp = media::sdp;

// Debian's Chromium: audio (Opus, red, G.722, PCMU, PCMA, CN, telephone-event at 48 and 8 kHz)
// and video, both sendonly.
using webrtc::testing::chromium_offer;

sdp::session_description parse(const std::string& text) {
  auto parsed = sdp::parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.describe() << "\n" << text;
  return parsed.ok() ? *parsed.session : sdp::session_description{};
}

webrtc::offer read(const sdp::session_description& s) {
  auto o = webrtc::read_offer(s);
  if (auto* why = std::get_if<std::string>(&o)) {
    ADD_FAILURE() << *why;
    return {};
  }
  return std::get<webrtc::offer>(o);
}

std::vector<std::string> encodings(const sdp::media_description& m) {
  std::vector<std::string> out;
  for (const auto& c : m.codecs) out.push_back(c.encoding + "/" + std::to_string(c.clock_rate));
  return out;
}

// A phone's description with one audio section of `codecs` (payload types as given).
sdp::session_description phone_sdp(std::vector<sdp::codec> codecs, std::uint16_t port = 4000,
                                   sdp::direction d = sdp::direction::sendrecv) {
  sdp::session_description s;
  s.connection = "192.0.2.50";
  sdp::media_description m;
  m.media = "audio";
  m.port = port;
  m.protocol = "RTP/AVP";
  m.codecs = std::move(codecs);
  for (const auto& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
  m.dir = d;
  s.media.push_back(std::move(m));
  return parse(sdp::serialize(s));  // as it would arrive
}

const sdp::codec pcmu{0, "PCMU", 8000, 1, ""};
const sdp::codec dtmf8k{101, "telephone-event", 8000, 1, "0-16"};

TEST(BridgeSdp, APhoneIsOfferedTheBrowsersPlainCodecsInItsOrder) {
  auto browser = read(parse(chromium_offer()));
  auto section = browser_audio_section(browser);
  ASSERT_EQ(section, 0u);
  auto offer = phone_offer(browser, *section, "192.0.2.1", 30000, 9);
  ASSERT_EQ(offer.media.size(), 1u);
  const auto& m = offer.media[0];
  EXPECT_EQ(m.protocol, "RTP/AVP");
  EXPECT_EQ(m.port, 30000);
  EXPECT_EQ(std::string(offer.address_of(m)), "192.0.2.1");
  EXPECT_EQ(encodings(m), (std::vector<std::string>{"opus/48000", "G722/8000", "PCMU/8000", "PCMA/8000",
                                                    "telephone-event/8000"}));
  EXPECT_EQ(m.codecs[0].payload_type, 111);  // the browser's numbers: its packets pass as they are
  EXPECT_EQ(offer.direction_of(m), sdp::direction::sendonly);  // what the browser offered
  EXPECT_TRUE(m.cryptos.empty());
}

TEST(BridgeSdp, AnOpusOnlyBrowsersPhoneIsOfferedG711AndG722ToTranscodeTo) {
  auto s = parse(chromium_offer());
  auto& audio = s.media[0];
  std::erase_if(audio.codecs, [](const sdp::codec& c) { return c.encoding != "opus"; });
  auto browser = read(s);
  auto offer = phone_offer(browser, 0, "192.0.2.1", 30000, 9);
  EXPECT_EQ(encodings(offer.media[0]), (std::vector<std::string>{"opus/48000", "G722/8000", "PCMU/8000", "PCMA/8000",
                                                                 "telephone-event/8000"}));
}

TEST(BridgeSdp, APhoneAnsweringPcmuIsPassedThroughWithDtmf) {
  auto browser = read(parse(chromium_offer()));
  auto plan = plan_for_answer(browser, 0, phone_sdp({pcmu, dtmf8k}));
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->browser.encoding, "PCMU");
  EXPECT_EQ(plan->phone.encoding, "PCMU");
  EXPECT_FALSE(plan->transcoded());
  ASSERT_TRUE(plan->browser_dtmf && plan->phone_dtmf);
  EXPECT_EQ(plan->browser_dtmf->payload_type, 126);  // the browser's telephone-event/8000
  EXPECT_EQ(plan->phone_dtmf->payload_type, 101);
  // The browser answered sendonly: Junction only receives from it, so the phone only receives.
  EXPECT_EQ(plan->towards_browser, sdp::direction::recvonly);
  EXPECT_EQ(plan->phone_sends.size(), 1u);
  EXPECT_GE(plan->browser_sends.size(), 4u);  // whatever of its offer it may send
  auto where = phone_audio_address(phone_sdp({pcmu}));
  ASSERT_TRUE(where);
  EXPECT_EQ(where->address, "192.0.2.50");
  EXPECT_EQ(where->port, 4000);
}

TEST(BridgeSdp, AnOpusOnlyBrowserAndAPcmuPhoneAreTranscoded) {
  auto s = parse(chromium_offer());
  std::erase_if(s.media[0].codecs, [](const sdp::codec& c) { return c.encoding != "opus"; });
  auto browser = read(s);
  auto plan = plan_for_answer(browser, 0, phone_sdp({pcmu}));
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->browser.encoding, "opus");
  EXPECT_EQ(plan->phone.encoding, "PCMU");
  EXPECT_TRUE(plan->transcoded());
  EXPECT_FALSE(plan->phone_dtmf);
}

TEST(BridgeSdp, APhoneThatTookNothingIsNoPlan) {
  auto browser = read(parse(chromium_offer()));
  EXPECT_FALSE(plan_for_answer(browser, 0, phone_sdp({pcmu}, 0)));                       // rejected
  EXPECT_FALSE(plan_for_answer(browser, 0, phone_sdp({{18, "G729", 8000, 1, ""}})));  // not offered
}

TEST(BridgeSdp, TheBrowsersAnswerHasTheOneCodecAndRejectsVideo) {
  auto browser = read(parse(chromium_offer()));
  auto plan = plan_for_answer(browser, 0, phone_sdp({pcmu, dtmf8k}));
  ASSERT_TRUE(plan);
  webrtc::answer_parameters p;
  p.ice = {"Jufrag01", "0123456789abcdefghijklmn"};
  p.fingerprint = "sha-256 AA:BB";
  p.candidates = {{"192.0.2.10", 40000, false}};
  p.send_ssrcs = {1234, 0};
  auto answer = parse(sdp::serialize(browser_answer(browser, *plan, p)));
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(encodings(answer.media[0]), (std::vector<std::string>{"PCMU/8000", "telephone-event/8000"}));
  EXPECT_EQ(answer.media[0].port, 40000);
  EXPECT_EQ(answer.media[1].port, 0);
  bool ssrc = false;
  for (const auto& a : answer.media[0].other) ssrc = ssrc || (a.name == "ssrc" && a.value.starts_with("1234 "));
  EXPECT_FALSE(ssrc);  // recvonly towards the browser: Junction sends it nothing
}

TEST(BridgeSdp, APhonesOfferBecomesAWebrtcOfferABrowserCanAnswer) {
  auto phone = phone_sdp({pcmu, {111, "PCMA", 8000, 1, ""}, dtmf8k});  // 111 taken: Opus moves
  auto section = phone_audio_section(phone);
  ASSERT_EQ(section, 0u);
  browser_offer_parameters p{{"Jufrag01", "0123456789abcdefghijklmn"}, "sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB", {{"192.0.2.10", 40000, false}},
                             4321, 5};
  auto offer = parse(sdp::serialize(browser_offer(phone, 0, p)));
  auto o = read(offer);
  EXPECT_EQ(o.setup, "actpass");
  EXPECT_EQ(o.ice.ufrag, "Jufrag01");
  ASSERT_EQ(o.media.size(), 1u);
  EXPECT_EQ(offer.media[0].protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_TRUE(offer.media[0].rtcp_mux);
  EXPECT_EQ(encodings(offer.media[0]), (std::vector<std::string>{"PCMU/8000", "PCMA/8000", "opus/48000",
                                                                 "telephone-event/8000", "telephone-event/48000"}));
  std::set<int> types;
  for (const auto& c : offer.media[0].codecs) types.insert(c.payload_type);
  EXPECT_EQ(types.size(), 5u);  // no payload type twice

  // A browser that takes only Opus (answered the way Junction answers browsers).
  webrtc::answer_parameters ap;
  ap.ice = {"Bufrag01", "abcdefghijklmnopqrstuvwx"};
  ap.fingerprint = "sha-256 CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD:CD";
  ap.candidates = {{"192.0.2.99", 50000, false}};
  ap.choices = {webrtc::choose_opus(o.media[0])};
  auto answer = read(parse(sdp::serialize(webrtc::make_answer(o, ap))));
  auto plan = plan_for_browser_answer(phone, 0, answer);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->browser.encoding, "opus");
  EXPECT_EQ(plan->phone.encoding, "PCMU");  // the phone's first
  EXPECT_TRUE(plan->transcoded());
  auto back = parse(sdp::serialize(phone_answer(phone, 0, *plan, "192.0.2.1", 30002, 6)));
  ASSERT_EQ(back.media.size(), 1u);
  EXPECT_EQ(back.media[0].port, 30002);
  EXPECT_EQ(back.media[0].protocol, "RTP/AVP");
  EXPECT_EQ(encodings(back.media[0]), (std::vector<std::string>{"PCMU/8000", "telephone-event/8000"}));
  EXPECT_EQ(std::string(back.address_of(back.media[0])), "192.0.2.1");
}

TEST(BridgeSdp, APhoneWithNothingABrowserTakesIsNotBridged) {
  EXPECT_FALSE(phone_audio_section(phone_sdp({{18, "G729", 8000, 1, ""}})));
  EXPECT_FALSE(phone_audio_section(phone_sdp({pcmu}, 0)));
}

}  // namespace
}  // namespace junction::sip_webrtc
