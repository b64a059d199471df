#include "webrtc/transport.hpp"

#include <gtest/gtest.h>

#include "tests/unit/webrtc/fake_browser.hpp"

namespace junction::webrtc {
namespace {

using namespace std::chrono_literals;
using clock = transport::clock;
using endpoint = transport::endpoint;

const endpoint browser_at{boost::asio::ip::make_address("192.0.2.7"), 50000};
const endpoint stranger_at{boost::asio::ip::make_address("203.0.113.66"), 1234};

using browser = testing::fake_browser;
using testing::rtp_packet;

struct transport_test : ::testing::Test {
  std::shared_ptr<const dtls_certificate> ours = dtls_certificate::generate();
  ice_credentials local = new_ice_credentials();
  browser b;
  clock::time_point now = clock::now();
  std::unique_ptr<transport> t;

  void SetUp() override {
    b.expect(*ours);
    t = std::make_unique<transport>(ours, local, b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                                    dtls_transport::role::client, now);
  }

  // Delivers what Junction sends to the browser (checking it goes to the browser's address)
  // and the browser's DTLS answers back, until both are quiet.
  void exchange() {
    for (int round = 0; round < 20; ++round) {
      auto out = t->take_outgoing();
      auto back = b.dtls->take_outgoing();
      if (out.empty() && back.empty()) return;
      for (auto& o : out) {
        EXPECT_EQ(o.to, browser_at);
        if (classify(o.bytes) == packet_kind::dtls) b.dtls->on_datagram(o.bytes, now);
      }
      for (auto& d : back) t->on_datagram(d, browser_at, now);
    }
    ADD_FAILURE() << "the exchange never settled";
  }

  void connect() {
    t->on_datagram(b.check(local), browser_at, now);
    EXPECT_EQ(t->current(), transport::state::connecting);
    exchange();
    ASSERT_EQ(t->current(), transport::state::connected) << t->failure();
    ASSERT_EQ(b.dtls->current(), dtls_transport::state::connected) << b.dtls->failure();
    b.keyed();
  }
};

TEST_F(transport_test, ACheckThenDtlsThenSrtpBothWays) {
  connect();
  // Browser -> Junction: decrypted on the way in.
  auto sent = rtp_packet(1, "opus frame");
  auto wire = sent;
  ASSERT_EQ(b.out->protect_rtp(wire), media::srtp::status::ok);
  t->on_datagram(wire, browser_at, now);
  auto got = t->take_received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, packet_kind::rtp);
  EXPECT_EQ(got[0].bytes, sent);
  // The same packet again is a replay.
  t->on_datagram(wire, browser_at, now);
  EXPECT_TRUE(t->take_received().empty());
  EXPECT_EQ(t->stats().srtp_failures, 1u);

  // Junction -> browser: protected on the way out, to the nominated address.
  auto reply = rtp_packet(9, "h264 slice");
  ASSERT_TRUE(t->send(packet_kind::rtp, reply));
  auto out = t->take_outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, browser_at);
  EXPECT_NE(out[0].bytes, reply);
  ASSERT_EQ(b.in->unprotect_rtp(out[0].bytes), media::srtp::status::ok);
  EXPECT_EQ(out[0].bytes, reply);
}

TEST_F(transport_test, NothingButChecksFromUnprovenSources) {
  // DTLS and media from an address no check came from are dropped and counted.
  std::vector<std::uint8_t> hello = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10};
  t->on_datagram(hello, stranger_at, now);
  t->on_datagram(rtp_packet(1, "x"), stranger_at, now);
  EXPECT_EQ(t->stats().unproven_dropped, 2u);
  EXPECT_TRUE(t->take_outgoing().empty());
  connect();
  t->on_datagram(rtp_packet(2, "x"), stranger_at, now);
  EXPECT_EQ(t->stats().unproven_dropped, 3u);
  // A check with the wrong password gets its 401 and proves nothing.
  ice_credentials wrong = local;
  wrong.pwd = "not-it-not-it-not-it-not";
  t->on_datagram(b.check(wrong), stranger_at, now);
  auto out = t->take_outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, stranger_at);
  EXPECT_FALSE(t->ice().proven(stranger_at));
}

TEST_F(transport_test, MediaBeforeTheKeysIsCountedNotDelivered) {
  t->on_datagram(b.check(local), browser_at, now);
  t->take_outgoing();  // the ClientHello never reaches the browser
  t->on_datagram(rtp_packet(1, "early"), browser_at, now);
  EXPECT_EQ(t->stats().early_media, 1u);
  EXPECT_TRUE(t->take_received().empty());
  EXPECT_FALSE(t->send(packet_kind::rtp, rtp_packet(1, "x")));
}

TEST_F(transport_test, ConsentLapsesWithoutChecks) {
  connect();
  EXPECT_LE(t->next_timeout(), now + ice_lite_agent::consent_lifetime);
  t->on_timer(now + 20s);
  EXPECT_EQ(t->current(), transport::state::connected);
  t->on_datagram(b.check(local, false), browser_at, now + 20s);  // a consent check
  t->on_timer(now + 45s);
  EXPECT_EQ(t->current(), transport::state::connected);
  t->on_timer(now + 51s);
  EXPECT_EQ(t->current(), transport::state::failed);
  EXPECT_NE(t->failure().find("consent"), std::string::npos);
  EXPECT_FALSE(t->send(packet_kind::rtp, rtp_packet(3, "x")));
}

TEST_F(transport_test, APeerWithAnotherCertificateFails) {
  browser impostor;  // its certificate is not the one the offer named
  impostor.expect(*ours);
  b.dtls = std::move(impostor.dtls);
  t->on_datagram(b.check(local), browser_at, now);
  exchange();
  EXPECT_EQ(t->current(), transport::state::failed);
  EXPECT_NE(t->failure().find("fingerprint"), std::string::npos) << t->failure();
}

TEST_F(transport_test, CloseSendsCloseNotifyAndTakesNothingMore) {
  connect();
  t->close();
  auto out = t->take_outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(classify(out[0].bytes), packet_kind::dtls);
  b.dtls->on_datagram(out[0].bytes, now);
  EXPECT_EQ(b.dtls->current(), dtls_transport::state::closed);
  EXPECT_EQ(t->current(), transport::state::closed);
  t->on_datagram(b.check(local), browser_at, now);
  EXPECT_TRUE(t->take_outgoing().empty());
}

// Once the browser's SRTP arrives (so its handshake is done), OpenSSL's state goes; the kept
// close_notify still ends the association for the browser, and the browser's alert still ends it
// for Junction.
TEST_F(transport_test, AfterThePeersMediaTheAssociationIsReleasedAndStillCloses) {
  connect();
  auto wire = rtp_packet(1, "opus frame");
  ASSERT_EQ(b.out->protect_rtp(wire), media::srtp::status::ok);
  t->on_datagram(wire, browser_at, now);
  ASSERT_EQ(t->take_received().size(), 1u);
  EXPECT_EQ(t->current(), transport::state::connected);
  // Media still goes both ways.
  ASSERT_TRUE(t->send(packet_kind::rtp, rtp_packet(2, "h264")));
  auto out = t->take_outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(classify(out[0].bytes), packet_kind::rtp);
  t->close();
  out = t->take_outgoing();
  ASSERT_EQ(out.size(), 1u);
  b.dtls->on_datagram(out[0].bytes, now);
  EXPECT_EQ(b.dtls->current(), dtls_transport::state::closed);
}

TEST_F(transport_test, AReleasedAssociationEndsWithThePeersCloseNotify) {
  connect();
  auto wire = rtp_packet(1, "opus frame");
  ASSERT_EQ(b.out->protect_rtp(wire), media::srtp::status::ok);
  t->on_datagram(wire, browser_at, now);
  b.dtls->close();
  auto bye = b.dtls->take_outgoing();
  ASSERT_EQ(bye.size(), 1u);
  t->on_datagram(bye[0], browser_at, now);
  EXPECT_EQ(t->current(), transport::state::closed);
}

}  // namespace
}  // namespace junction::webrtc

namespace junction::webrtc {
namespace {

// Junction made the offer (a phone calling a browser through the SIP bridge): the transport
// starts without the browser's ufrag and fingerprint, and the browser's answer brings them.
struct offering_transport_test : transport_test {
  void SetUp() override {
    t = std::make_unique<transport>(ours, local, "", fingerprint_value{}, dtls_transport::role::server, now);
  }
  // The browser took the DTLS client's role (a=setup:active in its answer, as browsers do).
  void browser_is_client(const dtls_certificate& expected) {
    b.dtls = std::make_unique<dtls_transport>(b.certificate, dtls_transport::role::client,
                                              *parse_fingerprint(expected.fingerprint()));
  }
};

TEST_F(offering_transport_test, TheBrowsersFirstFlightWaitsForItsAnswer) {
  browser_is_client(*ours);
  // The browser checks and starts DTLS before its answer reached Junction: the check is
  // answered (any ufrag, as the answer has not named one), the ClientHello kept.
  t->on_datagram(b.check(local), browser_at, now);
  EXPECT_EQ(t->current(), transport::state::connecting);
  t->take_outgoing();
  b.dtls->start(now);
  for (auto& d : b.dtls->take_outgoing()) t->on_datagram(d, browser_at, now);
  EXPECT_TRUE(t->take_outgoing().empty());
  EXPECT_FALSE(t->send(packet_kind::rtp, rtp_packet(1, "x")));
  // The answer: the kept flight is taken and the handshake goes on.
  ASSERT_TRUE(t->set_remote(b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                            dtls_transport::role::server, now));
  EXPECT_FALSE(t->set_remote(b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                             dtls_transport::role::server, now));  // once only
  exchange();
  ASSERT_EQ(t->current(), transport::state::connected) << t->failure();
  b.keyed();
  auto sent = rtp_packet(1, "pcmu frame");
  auto wire = sent;
  ASSERT_EQ(b.out->protect_rtp(wire), media::srtp::status::ok);
  t->on_datagram(wire, browser_at, now);
  auto got = t->take_received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, sent);
}

TEST_F(offering_transport_test, AnAnswerMakingJunctionTheClientStartsTheHandshake) {
  b.expect(*ours);  // the browser answered a=setup:passive: it is the DTLS server
  t->on_datagram(b.check(local), browser_at, now);
  t->take_outgoing();
  ASSERT_TRUE(t->set_remote(b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                            dtls_transport::role::client, now));
  exchange();
  EXPECT_EQ(t->current(), transport::state::connected) << t->failure();
}

TEST_F(offering_transport_test, AnAnswerNamingAnotherCertificateFails) {
  browser_is_client(*ours);
  t->on_datagram(b.check(local), browser_at, now);
  t->take_outgoing();
  b.dtls->start(now);
  for (auto& d : b.dtls->take_outgoing()) t->on_datagram(d, browser_at, now);
  auto other = dtls_certificate::generate();
  ASSERT_TRUE(t->set_remote(b.ice.ufrag, *parse_fingerprint(other->fingerprint()), dtls_transport::role::server, now));
  exchange();
  EXPECT_EQ(t->current(), transport::state::failed);
  EXPECT_NE(t->failure().find("fingerprint"), std::string::npos) << t->failure();
}

}  // namespace
}  // namespace junction::webrtc
