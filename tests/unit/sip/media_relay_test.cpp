#include "sip/media_relay.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/sdp/session.hpp"
#include "tests/unit/support/shard_loop.hpp"

namespace junction::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using bytes = std::vector<std::uint8_t>;

std::string sdp_for(std::string_view address, std::uint16_t audio_port, std::uint16_t video_port = 0) {
  std::string s = "v=0\r\no=- 1 1 IN IP4 " + std::string{address} + "\r\ns=-\r\nc=IN IP4 " + std::string{address} +
                  "\r\nt=0 0\r\nm=audio " + std::to_string(audio_port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  if (video_port) s += "m=video " + std::to_string(video_port) + " RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";
  return s;
}

media::sdp::session_description parsed(const std::optional<std::string>& text) {
  EXPECT_TRUE(text);
  auto p = media::sdp::parse(text.value_or(""));
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p.session : media::sdp::session_description{};
}

bytes datagram(std::uint8_t marker) { return {0x80, 0x00, 0x00, marker, 0, 0, 0, 1, 0, 0, 0, 2, marker}; }

struct seen_tap final : relay_tap {
  std::vector<std::tuple<std::size_t, bool, bytes>>* log;
  void on_datagram(std::size_t index, bool from_caller, std::span<const std::uint8_t> d) override {
    log->emplace_back(index, from_caller, bytes(d.begin(), d.end()));
  }
};

struct relay_fixture : ::testing::Test, junction::testing::shard_loop {
  relay_metrics metrics = relay_metrics::declare(registry);
  std::chrono::milliseconds idle{60'000};
  std::unique_ptr<media_relays> relays;
  udp::socket caller = peer(), callee = peer();
  std::vector<std::tuple<std::size_t, bool, bytes>> tapped;
  std::vector<std::string> answered;  // "call-id caller callee"

  void SetUp() override {
    relays = std::make_unique<media_relays>(home(), "127.0.0.1", idle, metrics);
    relays->set_tap_factory([this](const answered_call& c) -> std::unique_ptr<relay_tap> {
      answered.push_back(c.call_id + " " + c.caller + " " + c.callee);
      auto t = std::make_unique<seen_tap>();
      t->log = &tapped;
      return t;
    });
  }
  void TearDown() override { relays.reset(); }

  std::uint16_t port_of(const udp::socket& s) { return s.local_endpoint().port(); }
  // Offer and answer through the relay: the ports each phone is told to send to.
  std::pair<std::uint16_t, std::uint16_t> anchor(const std::string& call_id) {
    auto offer = parsed(relays->rewrite_offer(call_id, "tag-a", sdp_for("127.0.0.1", port_of(caller))));
    auto answer = parsed(relays->rewrite_answer(call_id, sdp_for("127.0.0.1", port_of(callee)), 200,
                                                "sip:alice@x", "sip:bob@x"));
    return {answer.media.at(0).port, offer.media.at(0).port};  // the caller's, the callee's
  }
};

TEST_F(relay_fixture, RelaysBothWaysThroughItsOwnPorts) {
  auto [caller_sends_to, callee_sends_to] = anchor("c1");
  ASSERT_NE(caller_sends_to, 0);
  ASSERT_NE(callee_sends_to, 0);
  EXPECT_NE(caller_sends_to, port_of(callee));
  EXPECT_EQ(relays->size(), 1u);
  EXPECT_EQ(count(metrics.relays), 1u);

  caller.send_to(asio::buffer(datagram(1)), {loopback(), caller_sends_to});
  udp::endpoint from;
  EXPECT_EQ(receive(callee, &from), datagram(1));
  EXPECT_EQ(from.port(), callee_sends_to);  // out of the port the callee sends to (symmetric)
  callee.send_to(asio::buffer(datagram(2)), {loopback(), callee_sends_to});
  EXPECT_EQ(receive(caller, &from), datagram(2));
  EXPECT_EQ(from.port(), caller_sends_to);
  EXPECT_EQ(count(metrics.packets), 2u);

  ASSERT_EQ(answered, std::vector<std::string>{"c1 sip:alice@x sip:bob@x"});
  ASSERT_EQ(tapped.size(), 2u);
  EXPECT_EQ(tapped[0], std::tuple(std::size_t{0}, true, datagram(1)));
  EXPECT_EQ(tapped[1], std::tuple(std::size_t{0}, false, datagram(2)));
}

TEST_F(relay_fixture, FollowsAPhoneBehindANat) {
  auto [caller_sends_to, callee_sends_to] = anchor("c1");
  auto callee_nat = peer();  // where the callee's packets really come from
  callee_nat.send_to(asio::buffer(datagram(3)), {loopback(), callee_sends_to});
  EXPECT_EQ(receive(caller), datagram(3));
  caller.send_to(asio::buffer(datagram(4)), {loopback(), caller_sends_to});
  EXPECT_EQ(receive(callee_nat), datagram(4));
  EXPECT_TRUE(quiet(callee));
}

TEST_F(relay_fixture, EachMediumHasItsOwnPorts) {
  auto video_caller = peer(), video_callee = peer();
  auto offer = parsed(relays->rewrite_offer("c1", "tag-a", sdp_for("127.0.0.1", port_of(caller), port_of(video_caller))));
  auto answer = parsed(relays->rewrite_answer("c1", sdp_for("127.0.0.1", port_of(callee), port_of(video_callee)), 200,
                                              "sip:a@x", "sip:b@x"));
  ASSERT_EQ(answer.media.size(), 2u);
  video_caller.send_to(asio::buffer(datagram(5)), {loopback(), answer.media[1].port});
  EXPECT_EQ(receive(video_callee), datagram(5));
  EXPECT_TRUE(quiet(callee));
  ASSERT_EQ(tapped.size(), 1u);
  EXPECT_EQ(std::get<0>(tapped[0]), 1u);
  (void)offer;
}

TEST_F(relay_fixture, HoldAndReInviteKeepTheCallAnchored) {
  auto [caller_sends_to, callee_sends_to] = anchor("c1");
  // The callee puts the call on hold the RFC 2543 way: c=0.0.0.0 stays as written.
  auto held = parsed(relays->rewrite_reoffer("c1", "tag-b", sdp_for("0.0.0.0", port_of(callee))));
  EXPECT_EQ(held.address_of(held.media[0]), "0.0.0.0");
  // The caller moves its media: the re-offer names the relay's same port, and packets go to the new place.
  auto moved = peer();
  auto reoffer = parsed(relays->rewrite_reoffer("c1", "tag-a", sdp_for("127.0.0.1", port_of(moved))));
  EXPECT_EQ(reoffer.media[0].port, callee_sends_to);
  EXPECT_EQ(reoffer.address_of(reoffer.media[0]), "127.0.0.1");
  callee.send_to(asio::buffer(datagram(6)), {loopback(), callee_sends_to});
  EXPECT_EQ(receive(moved), datagram(6));
  // A re-INVITE for a call this relay does not know is left alone.
  EXPECT_FALSE(relays->rewrite_reoffer("other", "tag-a", sdp_for("127.0.0.1", 4000)));
}

TEST_F(relay_fixture, EndClosesThePorts) {
  auto [caller_sends_to, callee_sends_to] = anchor("c1");
  relays->end("c1");
  EXPECT_EQ(relays->size(), 0u);
  EXPECT_EQ(count(metrics.relays), 0u);
  caller.send_to(asio::buffer(datagram(7)), {loopback(), caller_sends_to});
  EXPECT_TRUE(quiet(callee));
  // The port is free again: it can be bound.
  udp::socket again(io());
  boost::system::error_code ec;
  again.open(udp::v4());
  again.bind({loopback(), caller_sends_to}, ec);
  EXPECT_FALSE(ec) << ec.message();
  (void)callee_sends_to;
}

TEST_F(relay_fixture, BodiesThatAreNotSdpGoUnanchored) {
  EXPECT_FALSE(relays->rewrite_offer("c1", "tag-a", "not sdp at all"));
  EXPECT_EQ(relays->size(), 0u);
  EXPECT_FALSE(relays->rewrite_answer("c2", sdp_for("127.0.0.1", 4000), 200, "a", "b"));
}

TEST_F(relay_fixture, AnIdleRelayIsClosed) {
  relays = std::make_unique<media_relays>(home(), "127.0.0.1", std::chrono::milliseconds(1), metrics);
  anchor("c1");
  EXPECT_EQ(relays->size(), 1u);
  run_until([&] { return relays->size() == 0; });
  EXPECT_EQ(relays->size(), 0u);
  EXPECT_EQ(count(metrics.relays), 0u);
}

TEST(with_body, ReplacesTheBodyAndItsLength) {
  const std::string wire = "INVITE sip:b@x SIP/2.0\r\nl: 3\r\nVia: SIP/2.0/UDP h\r\n\r\nabc";
  EXPECT_EQ(with_body(wire, "hello"), "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 5\r\n\r\nhello");
}

}  // namespace
}  // namespace junction::sip
