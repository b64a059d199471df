#include "media/net/rtp_endpoint.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include "media/rtp/packet.hpp"
#include "media/sdp/session.hpp"
#include "media/srtp/session.hpp"
#include "tests/unit/support/shard_loop.hpp"

namespace junction::media {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;
using junction::testing::shard_loop;

bytes rtp_packet(std::uint16_t sequence, std::uint8_t payload_type = 0, std::string_view text = "voice") {
  rtp::header h;
  h.payload_type = payload_type;
  h.sequence = sequence;
  h.timestamp = 160u * sequence;
  h.ssrc = 0x11223344;
  bytes out;
  rtp::write_packet(h, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, out);
  return out;
}

// An RTCP receiver report with no blocks (PT 201).
bytes rtcp_packet() { return {0x80, 201, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44}; }

struct collected final : rtp_receiver {
  std::vector<std::pair<datagram_kind, bytes>> got;
  std::function<void()> after;  // runs after each datagram (a test may stop the endpoint there)
  void on_datagram(datagram_kind kind, std::span<const std::uint8_t> d) override {
    got.emplace_back(kind, bytes(d.begin(), d.end()));
    if (after) after();
  }
};

struct endpoint_fixture : ::testing::Test, junction::testing::shard_loop {
  metric_id received = registry.add("received", "", metric_kind::counter);
  metric_id sent = registry.add("sent", "", metric_kind::counter);
  metric_id failures = registry.add("failures", "", metric_kind::counter);

  std::shared_ptr<rtp_endpoint> open() {
    boost::system::error_code ec;
    auto e = rtp_endpoint::open(home(), loopback(), {received, sent, failures}, ec);
    EXPECT_FALSE(ec) << ec.message();
    return e;
  }
  udp::endpoint at(const rtp_endpoint& e) { return {loopback(), e.local_port()}; }
};

TEST_F(endpoint_fixture, DemultiplexesRtpAndRtcpOnOnePort) {
  auto e = open();
  collected c;
  e->start(c);
  auto phone = peer();
  phone.send_to(asio::buffer(rtp_packet(1)), at(*e));
  phone.send_to(asio::buffer(rtcp_packet()), at(*e));
  ASSERT_TRUE(run_until([&] { return c.got.size() == 2; }));
  EXPECT_EQ(c.got[0].first, datagram_kind::rtp);
  EXPECT_EQ(c.got[0].second, rtp_packet(1));
  EXPECT_EQ(c.got[1].first, datagram_kind::rtcp);
  EXPECT_EQ(c.got[1].second, rtcp_packet());
  EXPECT_EQ(count(received), 1u);  // RTP packets only
  e->stop();
}

TEST_F(endpoint_fixture, AnswersWhereThePeerReallySendsFrom) {
  auto e = open();
  collected c;
  e->start(c);
  auto named = peer();   // the address the peer's SDP named
  auto actual = peer();  // where its packets really come from (a NAT)
  e->set_remote(named.local_endpoint());
  ASSERT_TRUE(e->send(rtp_packet(1)));
  EXPECT_EQ(receive(named), rtp_packet(1));

  actual.send_to(asio::buffer(rtp_packet(7)), at(*e));
  ASSERT_TRUE(run_until([&] { return c.got.size() == 1; }));
  EXPECT_EQ(e->remote(), actual.local_endpoint());
  ASSERT_TRUE(e->send(rtp_packet(2)));
  udp::endpoint from;
  EXPECT_EQ(receive(actual, &from), rtp_packet(2));
  EXPECT_EQ(from, at(*e));
  EXPECT_TRUE(quiet(named));
  EXPECT_EQ(count(sent), 2u);
  e->stop();
}

TEST_F(endpoint_fixture, SendsNothingWithoutAPeer) {
  auto e = open();
  collected c;
  e->start(c);
  EXPECT_FALSE(e->send(rtp_packet(1)));
  EXPECT_EQ(count(sent), 0u);
  e->stop();
}

TEST_F(endpoint_fixture, OnHoldOnlyRtcpIsSent) {
  auto e = open();
  collected c;
  e->start(c);
  auto phone = peer();
  e->set_remote(phone.local_endpoint());
  e->set_sending(false);
  EXPECT_FALSE(e->send(rtp_packet(1)));
  EXPECT_TRUE(e->send(rtcp_packet()));
  EXPECT_EQ(receive(phone), rtcp_packet());
  EXPECT_TRUE(quiet(phone));
  e->set_sending(true);
  EXPECT_TRUE(e->send(rtp_packet(2)));
  EXPECT_EQ(receive(phone), rtp_packet(2));
  e->stop();
}

TEST_F(endpoint_fixture, SrtpBothWaysAndForgeriesDropped) {
  // Two endpoints keyed as two ends of one SDES exchange: each one's key is the other's remote key.
  std::array<std::uint8_t, 30> a_master{}, b_master{};
  for (std::size_t i = 0; i < 30; ++i) a_master[i] = std::uint8_t(i), b_master[i] = std::uint8_t(100 + i);
  sdp::crypto a_key{1, "AES_CM_128_HMAC_SHA1_80", srtp::make_inline_key(a_master), {}};
  sdp::crypto b_key{1, "AES_CM_128_HMAC_SHA1_80", srtp::make_inline_key(b_master), {}};
  auto a = open(), b = open();
  ASSERT_TRUE(a->use_srtp(a_key, b_key));
  ASSERT_TRUE(b->use_srtp(b_key, a_key));
  collected at_a, at_b;
  a->start(at_a);
  b->start(at_b);
  a->set_remote(at(*b));
  b->set_remote(at(*a));

  ASSERT_TRUE(a->send(rtp_packet(1)));
  ASSERT_TRUE(a->send(rtcp_packet()));
  ASSERT_TRUE(run_until([&] { return at_b.got.size() == 2; }));
  EXPECT_EQ(at_b.got[0], std::pair(datagram_kind::rtp, rtp_packet(1)));
  EXPECT_EQ(at_b.got[1], std::pair(datagram_kind::rtcp, rtcp_packet()));
  ASSERT_TRUE(b->send(rtp_packet(9)));
  ASSERT_TRUE(run_until([&] { return at_a.got.size() == 1; }));
  EXPECT_EQ(at_a.got[0].second, rtp_packet(9));

  // A plain packet, as an attacker who has no key would send it, is dropped and counted.
  auto attacker = peer();
  attacker.send_to(asio::buffer(rtp_packet(2)), at(*b));
  ASSERT_TRUE(run_until([&] { return count(failures) == 1; }));
  EXPECT_EQ(at_b.got.size(), 2u);
  EXPECT_EQ(b->remote(), at(*a));  // a forgery does not move the call's media
  a->stop();
  b->stop();
}

TEST_F(endpoint_fixture, TapSeesEachDatagramBeforeTheReceiver) {
  auto e = open();
  collected c;
  std::vector<std::string> order;
  e->set_tap([&](datagram_kind kind, std::span<const std::uint8_t>) {
    order.push_back(kind == datagram_kind::rtp ? "tap rtp" : "tap rtcp");
  });
  c.after = [&] { order.push_back("receiver"); };
  e->start(c);
  auto phone = peer();
  phone.send_to(asio::buffer(rtp_packet(1)), at(*e));
  phone.send_to(asio::buffer(rtcp_packet()), at(*e));
  ASSERT_TRUE(run_until([&] { return c.got.size() == 2; }));
  EXPECT_EQ(order, (std::vector<std::string>{"tap rtp", "receiver", "tap rtcp", "receiver"}));
  e->stop();
}

TEST_F(endpoint_fixture, NothingIsCalledBackAfterStop) {
  auto e = open();
  collected c;
  c.after = [&] { e->stop(); };  // stopped from inside the receiver
  e->start(c);
  auto phone = peer();
  const auto port = at(*e);
  phone.send_to(asio::buffer(rtp_packet(1)), port);
  phone.send_to(asio::buffer(rtp_packet(2)), port);
  ASSERT_TRUE(run_until([&] { return !c.got.empty(); }));
  EXPECT_TRUE(quiet(phone));
  EXPECT_EQ(c.got.size(), 1u);
  EXPECT_FALSE(e->running());
  EXPECT_FALSE(e->send(rtp_packet(3)));
  // The loop ends and lets go of the endpoint.
  std::weak_ptr<rtp_endpoint> weak = e;
  e.reset();
  EXPECT_TRUE(run_until([&] { return weak.expired(); }));
}

TEST_F(endpoint_fixture, LastReceivedMovesWithPackets) {
  auto e = open();
  collected c;
  e->start(c);
  const auto before = e->last_received();
  auto phone = peer();
  phone.send_to(asio::buffer(rtp_packet(1)), at(*e));
  ASSERT_TRUE(run_until([&] { return !c.got.empty(); }));
  EXPECT_GT(e->last_received(), before);
  e->stop();
}

}  // namespace
}  // namespace junction::media
