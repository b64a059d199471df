#include "webrtc/client_peer.hpp"

#include <gtest/gtest.h>

#include "media/sdp/session.hpp"
#include "tests/unit/webrtc/fake_browser.hpp"
#include "webrtc/offer_answer.hpp"
#include "webrtc/transport.hpp"

namespace junction::webrtc {
namespace {

using clock = transport::clock;
const transport::endpoint client_at{boost::asio::ip::make_address("127.0.0.1"), 50000};

// The client's offer read by Junction's own offer/answer code, answered, and the two transports
// connected in memory: what junction-load does against a server, without the sockets.
TEST(ClientPeer, ItsOfferIsTakenAndTheTwoSidesConnect) {
  auto server_cert = dtls_certificate::generate();
  client_peer c(dtls_certificate::generate(), {.video = true, .audio = true, .receive = true});
  auto parsed = media::sdp::parse(c.offer());
  ASSERT_TRUE(parsed.ok()) << parsed.describe() << "\n" << c.offer();
  auto read = read_offer(*parsed.session);
  ASSERT_TRUE(std::holds_alternative<offer>(read)) << std::get<std::string>(read);
  const auto& o = std::get<offer>(read);
  ASSERT_EQ(o.media.size(), 2u);
  EXPECT_EQ(o.media[0].dir, media::sdp::direction::recvonly);
  auto video = choose_video(o.media[0], true);
  ASSERT_TRUE(video);
  EXPECT_EQ(video->codec.encoding, "H264");
  ASSERT_TRUE(video->rtx);
  ASSERT_TRUE(choose_opus(o.media[1]));

  answer_parameters p;
  p.ice = new_ice_credentials();
  p.fingerprint = server_cert->fingerprint();
  p.candidates = {{"127.0.0.1", 40000, false}};
  p.choices = {video, choose_opus(o.media[1])};
  p.directions = {media::sdp::direction::sendonly, media::sdp::direction::sendonly};
  p.send_ssrcs = {1111, 2222};
  p.send_rtx_ssrcs = {3333, 0};
  std::string why;
  ASSERT_TRUE(c.answer(media::sdp::serialize(make_answer(o, p)), why)) << why;
  EXPECT_EQ(c.server().port, 40000);
  EXPECT_EQ(c.server().address, "127.0.0.1");

  transport server(server_cert, p.ice, o.ice.ufrag, o.fingerprint, answer_role(o), clock::now());
  server.on_datagram(c.check(), client_at, clock::now());
  for (int round = 0; round < 20 && c.current() != client_peer::state::connected; ++round) {
    for (auto& out : server.take_outgoing()) c.on_datagram(out.bytes, clock::now());
    for (auto& back : c.take_outgoing()) server.on_datagram(back, client_at, clock::now());
  }
  ASSERT_EQ(c.current(), client_peer::state::connected) << c.failure();
  for (auto& back : c.take_outgoing()) server.on_datagram(back, client_at, clock::now());
  ASSERT_EQ(server.current(), transport::state::connected) << server.failure();

  // Media from the server arrives decrypted; RTCP from the client reaches the server.
  auto sent = testing::rtp_packet(7, "frame");
  ASSERT_TRUE(server.send(packet_kind::rtp, sent));
  for (auto& out : server.take_outgoing()) c.on_datagram(out.bytes, clock::now());
  auto got = c.take_received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, packet_kind::rtp);
  EXPECT_EQ(got[0].bytes, sent);
  const std::vector<std::uint8_t> rr = {0x80, 201, 0, 1, 0, 0, 0, 9};
  ASSERT_TRUE(c.send(packet_kind::rtcp, rr));
  for (auto& back : c.take_outgoing()) server.on_datagram(back, client_at, clock::now());
  auto heard = server.take_received();
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].bytes, rr);
}

TEST(ClientPeer, AnAnswerWithoutWhatTheTransportNeedsIsRefused) {
  client_peer c(dtls_certificate::generate(), {});
  std::string why;
  EXPECT_FALSE(c.answer("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", why));
  EXPECT_NE(why.find("ICE credentials"), std::string::npos) << why;
  EXPECT_FALSE(c.answer("not sdp", why));
}

}  // namespace
}  // namespace junction::webrtc
