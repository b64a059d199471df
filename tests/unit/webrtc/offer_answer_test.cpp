#include "webrtc/offer_answer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/webrtc/vectors.hpp"

namespace junction::webrtc {
namespace {

namespace sdp = media::sdp;

using testing::chromium_offer;

offer read(const std::string& text) {
  auto parsed = sdp::parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.describe();
  auto o = read_offer(*parsed.session);
  if (auto* why = std::get_if<std::string>(&o)) ADD_FAILURE() << *why;
  return std::get<offer>(o);
}

const sdp::attribute* find(const std::vector<sdp::attribute>& list, std::string_view name) {
  for (const auto& a : list)
    if (a.name == name) return &a;
  return nullptr;
}

TEST(OfferAnswer, ReadsChromiumsOffer) {
  auto o = read(chromium_offer());
  EXPECT_GE(o.ice.ufrag.size(), 4u);
  EXPECT_GE(o.ice.pwd.size(), 22u);
  EXPECT_EQ(o.fingerprint.algorithm, "sha-256");
  EXPECT_EQ(o.setup, "actpass");
  ASSERT_EQ(o.media.size(), 2u);
  EXPECT_EQ(o.bundle, (std::vector<std::string>{o.media[0].mid, o.media[1].mid}));
  EXPECT_EQ(o.media[0].kind, "audio");
  EXPECT_EQ(o.media[1].kind, "video");
  EXPECT_EQ(o.media[0].dir, sdp::direction::sendonly);
  EXPECT_FALSE(o.media[1].ssrcs.empty());
  EXPECT_FALSE(o.media[1].extensions.empty());
  EXPECT_FALSE(o.media[1].feedback.empty());

  auto opus = choose_opus(o.media[0]);
  ASSERT_TRUE(opus);
  EXPECT_EQ(opus->codec.clock_rate, 48000u);
  auto h264 = choose_video(o.media[1], true);
  ASSERT_TRUE(h264);
  EXPECT_EQ(h264->codec.encoding, "H264");
  EXPECT_NE(h264->codec.fmtp.find("packetization-mode=1"), std::string::npos);
  EXPECT_NE(h264->codec.fmtp.find("profile-level-id=42e01f"), std::string::npos);
  ASSERT_TRUE(h264->rtx);  // Chromium offers RTX for every video codec
  auto vp8 = choose_video(o.media[1], false);
  ASSERT_TRUE(vp8);
  EXPECT_EQ(vp8->codec.encoding, "VP8");
}

TEST(OfferAnswer, AnswersWithIceLiteOneBundleAndTheChosenCodecs) {
  auto o = read(chromium_offer());
  answer_parameters p;
  p.ice = {"Jufrag01", "0123456789abcdefghijklmn"};
  p.fingerprint = "sha-256 AA:BB";
  p.candidates = {{"192.0.2.10", 40000, false}, {"192.0.2.10", 8443, true}};
  p.choices = {choose_opus(o.media[0]), choose_video(o.media[1], true)};
  p.directions = {sdp::direction::recvonly, sdp::direction::recvonly};
  p.session_id = 7;
  const std::string text = sdp::serialize(make_answer(o, p));
  auto back = sdp::parse(text);
  ASSERT_TRUE(back.ok()) << back.describe() << "\n" << text;
  const auto& a = *back.session;
  EXPECT_TRUE(find(a.other, "ice-lite"));
  ASSERT_TRUE(find(a.other, "group"));
  EXPECT_EQ(find(a.other, "group")->value, "BUNDLE " + o.media[0].mid + " " + o.media[1].mid);
  ASSERT_EQ(a.media.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& m = a.media[i];
    EXPECT_EQ(m.protocol, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(m.port, 40000);
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_EQ(find(m.other, "mid")->value, o.media[i].mid);
    EXPECT_EQ(find(m.other, "ice-ufrag")->value, "Jufrag01");
    EXPECT_EQ(find(m.other, "setup")->value, "active");  // the browser let us choose
    EXPECT_EQ(a.direction_of(m), sdp::direction::recvonly);
    EXPECT_TRUE(find(m.other, "end-of-candidates"));
  }
  EXPECT_EQ(a.media[0].codecs.size(), 1u);
  EXPECT_EQ(a.media[0].codecs[0].encoding, "opus");
  ASSERT_EQ(a.media[1].codecs.size(), 2u);  // H.264 and its RTX
  EXPECT_EQ(a.media[1].codecs[0].encoding, "H264");
  EXPECT_EQ(a.media[1].codecs[1].encoding, "rtx");
  EXPECT_NE(text.find("a=candidate:1 1 udp 2130706430 192.0.2.10 40000 typ host\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=candidate:2 1 tcp 1694498813 192.0.2.10 8443 typ host tcptype passive\r\n"),
            std::string::npos);
  EXPECT_NE(text.find("a=rtcp-fb:" + std::to_string(a.media[1].codecs[0].payload_type) + " nack pli"),
            std::string::npos);
}

TEST(OfferAnswer, TakesChromiumsSimulcastLayers) {
  auto o = read(testing::chromium_simulcast_offer());
  ASSERT_EQ(o.media.size(), 2u);
  EXPECT_TRUE(o.media[0].rids.empty());
  EXPECT_EQ(o.media[1].rids, (std::vector<std::string>{"h", "l"}));
  auto has = [](const offered_media& m, std::string_view uri) {
    return std::any_of(m.extensions.begin(), m.extensions.end(), [&](const auto& e) { return e.uri == uri; });
  };
  EXPECT_TRUE(has(o.media[1], extension_uri::rtp_stream_id));
  EXPECT_TRUE(has(o.media[1], extension_uri::repaired_rtp_stream_id));
  answer_parameters p;
  p.ice = new_ice_credentials();
  p.fingerprint = "sha-256 AA:BB";
  p.candidates = {{"192.0.2.10", 40000, false}};
  p.choices = {choose_opus(o.media[0]), choose_video(o.media[1], true)};
  p.directions = {sdp::direction::recvonly, sdp::direction::recvonly};
  p.receive_rids = {{}, {"h", "l"}};
  auto a = make_answer(o, p);
  std::vector<std::string> rids, extensions;
  const sdp::attribute* simulcast = nullptr;
  for (const auto& at : a.media[1].other) {
    if (at.name == "rid") rids.push_back(at.value);
    if (at.name == "simulcast") simulcast = &at;
    if (at.name == "extmap") extensions.push_back(at.value);
  }
  EXPECT_EQ(rids, (std::vector<std::string>{"h recv", "l recv"}));
  ASSERT_TRUE(simulcast);
  EXPECT_EQ(simulcast->value, "recv h;l");
  EXPECT_NE(std::find(extensions.begin(), extensions.end(), "10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"),
            extensions.end());
  EXPECT_EQ(find(a.media[0].other, "simulcast"), nullptr);
  // A WHEP answer that wants the browser's own estimate (REMB) leaves transport-cc out.
  answer_parameters send = p;
  send.directions = {sdp::direction::sendonly, sdp::direction::sendonly};
  send.receive_rids = {};
  send.receiver_estimates = true;
  const auto sent = make_answer(o, send);
  for (const auto& at : sent.media[1].other) {
    EXPECT_EQ(at.value.find("transport-cc"), std::string::npos) << at.name << ":" << at.value;
    EXPECT_EQ(at.value.find("transport-wide-cc"), std::string::npos) << at.name << ":" << at.value;
  }
  // The answer parses back as SDP, with the layers where they were.
  auto again = sdp::parse(sdp::serialize(a));
  ASSERT_TRUE(again.ok()) << again.describe();
  // Rids that are not RFC 8851 ids, or repeated, are not taken.
  std::string odd = testing::chromium_simulcast_offer();
  const auto at = odd.find("a=rid:l send");
  odd.insert(at, "a=rid:h send\r\na=rid:bad/rid send\r\na=rid:waytoolongforanextension send\r\n");
  EXPECT_EQ(read(odd).media[1].rids, (std::vector<std::string>{"h", "l"}));
}

TEST(OfferAnswer, ARejectedSectionLeavesTheBundle) {
  auto o = read(chromium_offer());
  answer_parameters p;
  p.ice = new_ice_credentials();
  p.fingerprint = "sha-256 AA:BB";
  p.candidates = {{"192.0.2.10", 40000, false}};
  p.choices = {choose_opus(o.media[0]), std::nullopt};  // no video wanted
  auto a = make_answer(o, p);
  EXPECT_EQ(a.media[1].port, 0);
  EXPECT_EQ(find(a.other, "group")->value, "BUNDLE " + o.media[0].mid);
}

TEST(OfferAnswer, RefusesOffersWithoutWhatWebrtcNeeds) {
  const std::string base = chromium_offer();
  auto refused = [](std::string text, std::string_view expect) {
    auto parsed = sdp::parse(text);
    ASSERT_TRUE(parsed.ok()) << parsed.describe();
    auto o = read_offer(*parsed.session);
    ASSERT_TRUE(std::holds_alternative<std::string>(o)) << expect;
    EXPECT_NE(std::get<std::string>(o).find(expect), std::string::npos) << std::get<std::string>(o);
  };
  auto without = [&](std::string_view prefix) {
    std::string out;
    std::istringstream in(base);
    for (std::string line; std::getline(in, line);)
      if (!line.starts_with(prefix)) out += line + "\n";
    return out;
  };
  refused(without("a=ice-ufrag"), "ICE credentials");
  refused(without("a=fingerprint"), "fingerprint");
  std::string plain = base;
  for (auto at = plain.find("UDP/TLS/RTP/SAVPF"); at != std::string::npos; at = plain.find("UDP/TLS/RTP/SAVPF"))
    plain.replace(at, 17, "RTP/AVP");
  refused(plain, "not UDP/TLS/RTP/SAVPF");
}

}  // namespace
}  // namespace junction::webrtc
