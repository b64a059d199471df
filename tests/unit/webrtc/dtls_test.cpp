#include "webrtc/dtls.hpp"

#include <gtest/gtest.h>

#include "webrtc/demux.hpp"

namespace junction::webrtc {
namespace {

using clock = dtls_transport::clock;

fingerprint_value fingerprint_of(const dtls_certificate& c) {
  auto v = parse_fingerprint(c.fingerprint());
  EXPECT_TRUE(v) << c.fingerprint();
  return v.value_or(fingerprint_value{});
}

// Carries what each side writes to the other until neither has anything left to say. Every
// datagram must be DTLS by RFC 7983's rule and fit the MTU.
void shuttle(dtls_transport& a, dtls_transport& b, clock::time_point now, int* datagrams = nullptr) {
  for (int round = 0; round < 20; ++round) {
    auto from_a = a.take_outgoing();
    auto from_b = b.take_outgoing();
    if (from_a.empty() && from_b.empty()) return;
    for (const auto& d : from_a) {
      EXPECT_EQ(classify(d), packet_kind::dtls);
      EXPECT_LE(d.size(), dtls_transport::mtu);
      if (datagrams) ++*datagrams;
      b.on_datagram(d, now);
    }
    for (const auto& d : from_b) {
      EXPECT_EQ(classify(d), packet_kind::dtls);
      EXPECT_LE(d.size(), dtls_transport::mtu);
      if (datagrams) ++*datagrams;
      a.on_datagram(d, now);
    }
  }
  ADD_FAILURE() << "the handshake never settled";
}

struct dtls_test : ::testing::Test {
  std::shared_ptr<const dtls_certificate> ours = dtls_certificate::generate();
  std::shared_ptr<const dtls_certificate> theirs = dtls_certificate::generate();
  clock::time_point now = clock::now();
};

TEST_F(dtls_test, CertificatesHaveTheirOwnSha256Fingerprints) {
  ASSERT_TRUE(ours && theirs);
  EXPECT_TRUE(ours->fingerprint().starts_with("sha-256 "));
  EXPECT_EQ(ours->fingerprint().size(), 8u + 32 * 3 - 1);
  EXPECT_NE(ours->fingerprint(), theirs->fingerprint());
  EXPECT_EQ(fingerprint_of(*ours).digest.size(), 32u);
}

TEST_F(dtls_test, BothSidesConnectAndExportMatchingSrtpKeys) {
  dtls_transport client(ours, dtls_transport::role::client, fingerprint_of(*theirs));
  dtls_transport server(theirs, dtls_transport::role::server, fingerprint_of(*ours));
  client.start(now);
  EXPECT_TRUE(client.next_timeout());  // the ClientHello waits for an answer
  int datagrams = 0;
  shuttle(client, server, now, &datagrams);
  ASSERT_EQ(client.current(), dtls_transport::state::connected) << client.failure();
  ASSERT_EQ(server.current(), dtls_transport::state::connected) << server.failure();
  EXPECT_GE(datagrams, 4);
  EXPECT_FALSE(client.next_timeout());
  const auto& c = *client.keying();
  const auto& s = *server.keying();
  EXPECT_EQ(c.suite, media::srtp::suite::aead_aes_128_gcm);  // offered first by both
  EXPECT_EQ(c.suite, s.suite);
  EXPECT_EQ(c.local_master.size(), media::srtp::master_length(c.suite));
  EXPECT_EQ(c.local_master, s.remote_master);
  EXPECT_EQ(c.remote_master, s.local_master);
  EXPECT_NE(c.local_master, c.remote_master);

  // The keys work: what one side protects, the other unprotects.
  auto out = media::srtp::session::create(c.suite, c.local_master, media::srtp::session::direction::outbound);
  auto in = media::srtp::session::create(s.suite, s.remote_master, media::srtp::session::direction::inbound);
  ASSERT_TRUE(out && in);
  std::vector<std::uint8_t> rtp = {0x80, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78, 'h', 'i'};
  const auto plain = rtp;
  ASSERT_EQ(out->protect_rtp(rtp), media::srtp::status::ok);
  EXPECT_NE(rtp, plain);
  ASSERT_EQ(in->unprotect_rtp(rtp), media::srtp::status::ok);
  EXPECT_EQ(rtp, plain);
}

TEST_F(dtls_test, ApplicationDataCrossesBothWaysAndCloseEndsIt) {
  dtls_transport client(ours, dtls_transport::role::client, fingerprint_of(*theirs));
  dtls_transport server(theirs, dtls_transport::role::server, fingerprint_of(*ours));
  client.start(now);
  shuttle(client, server, now);
  const std::vector<std::uint8_t> hello = {'s', 'c', 't', 'p'};
  ASSERT_TRUE(client.send(hello));
  shuttle(client, server, now);
  auto got = server.take_received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], hello);
  ASSERT_TRUE(server.send(hello));
  shuttle(client, server, now);
  EXPECT_EQ(client.take_received().size(), 1u);
  client.close();
  shuttle(client, server, now);
  EXPECT_EQ(server.current(), dtls_transport::state::closed);
  EXPECT_FALSE(client.send(hello));
}

TEST_F(dtls_test, APeerWhoseCertificateIsNotTheFingerprintFails) {
  auto stranger = dtls_certificate::generate();
  dtls_transport client(stranger, dtls_transport::role::client, fingerprint_of(*theirs));
  dtls_transport server(theirs, dtls_transport::role::server, fingerprint_of(*ours));  // expects ours
  client.start(now);
  shuttle(client, server, now);
  EXPECT_EQ(server.current(), dtls_transport::state::failed);
  EXPECT_NE(server.failure().find("fingerprint"), std::string::npos) << server.failure();
  EXPECT_FALSE(server.keying());
  // Refused during the handshake, with an alert: the stranger does not believe itself connected.
  EXPECT_EQ(client.current(), dtls_transport::state::failed) << client.failure();
  EXPECT_FALSE(client.keying());
}

TEST_F(dtls_test, GarbageDoesNotConnectAndDoesNotCrash) {
  dtls_transport server(theirs, dtls_transport::role::server, fingerprint_of(*ours));
  for (std::uint8_t first : {std::uint8_t{22}, std::uint8_t{23}, std::uint8_t{0}, std::uint8_t{255}}) {
    std::vector<std::uint8_t> junk(100, 0xAB);
    junk[0] = first;
    server.on_datagram(junk, now);
    server.take_outgoing();
  }
  EXPECT_NE(server.current(), dtls_transport::state::connected);
  EXPECT_FALSE(server.keying());
}

TEST_F(dtls_test, AHandshakeNobodyAnswersTimesOut) {
  dtls_transport client(ours, dtls_transport::role::client, fingerprint_of(*theirs));
  client.start(now);
  ASSERT_TRUE(client.next_timeout());
  EXPECT_LE(*client.next_timeout() - now, std::chrono::seconds(1));
  client.on_timer(now + std::chrono::seconds(31));
  EXPECT_EQ(client.current(), dtls_transport::state::failed);
  EXPECT_FALSE(client.next_timeout());
}

TEST(DtlsFingerprint, ReadsWhatSdpCarries) {
  auto v = parse_fingerprint("SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->algorithm, "sha-1");
  EXPECT_EQ(v->digest.size(), 20u);
  EXPECT_EQ(v->digest[0], 0x4A);
  EXPECT_FALSE(parse_fingerprint("sha-256 4A:AD"));          // too short for its algorithm
  EXPECT_FALSE(parse_fingerprint("md5 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B"));
  EXPECT_FALSE(parse_fingerprint("sha-1 4A-AD-B9"));
  EXPECT_FALSE(parse_fingerprint(""));
}

}  // namespace
}  // namespace junction::webrtc
