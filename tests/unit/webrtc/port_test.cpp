#include "webrtc/port.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tests/unit/support/shard_loop.hpp"
#include "tests/unit/webrtc/fake_browser.hpp"

namespace junction::webrtc {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using bytes = std::vector<std::uint8_t>;

struct recorded final : peer_events {
  std::vector<std::pair<packet_kind, bytes>> media;
  std::vector<std::pair<transport::state, std::string>> states;
  void on_media(packet_kind kind, std::span<const std::uint8_t> packet) override {
    media.emplace_back(kind, bytes(packet.begin(), packet.end()));
  }
  void on_state(transport::state now, const std::string& why) override { states.emplace_back(now, why); }
};

using testing::rtp_packet;

// A browser on a real UDP socket.
struct browser : testing::fake_browser {
  udp::socket socket;
  explicit browser(udp::socket s) : socket(std::move(s)) {}
  void send_to(const udp::endpoint& to, const bytes& b) { socket.send_to(asio::buffer(b), to); }
};

struct port_test : ::testing::Test, junction::testing::shard_loop {
  // Owners outlive the port's stop() in TearDown, which tells them their peers ended.
  std::deque<recorded> owners;
  recorded& owner() { return owners.emplace_back(); }
  metric_id peers_gauge = registry.add("webrtc_peers", "", metric_kind::gauge);
  metric_id connected = registry.add("webrtc_connected", "", metric_kind::counter);
  metric_id failed = registry.add("webrtc_failed", "", metric_kind::counter);
  metric_id strangers = registry.add("webrtc_strangers", "", metric_kind::counter);
  metric_id received = registry.add("webrtc_received", "", metric_kind::counter);
  std::shared_ptr<const dtls_certificate> ours = dtls_certificate::generate();
  std::shared_ptr<webrtc_port> port;
  udp::endpoint port_at;

  void SetUp() override {
    boost::system::error_code ec;
    port = webrtc_port::open(home(), {loopback(), 0}, ours, {peers_gauge, connected, failed, strangers, received}, ec);
    ASSERT_TRUE(port) << ec.message();
    port->start();
    port_at = {loopback(), port->local_port()};
  }
  // The loops hold the port: they end (and let it go) when the shard runs after stop(), which
  // must happen before the shard's io_context goes.
  void TearDown() override {
    if (!port) return;
    port->stop();
    EXPECT_TRUE(run_until([&] { return port.use_count() == 1; }));
    port.reset();
  }
  std::uint64_t metric(metric_id id) { return home().metrics().get(id); }

  // Plays the browser's side of the handshake until both ends are connected; `send` and
  // `receive` carry its packets (over UDP unless given: ICE-TCP passes its own).
  using send_function = std::function<void(const bytes&)>;
  using receive_function = std::function<bytes()>;
  bool connect(browser& b, const ice_credentials& local, recorded& events, send_function send = {},
               receive_function receive_one = {}) {
    if (!send) send = [&](const bytes& p) { b.send_to(port_at, p); };
    if (!receive_one) receive_one = [&] { return receive(b.socket); };
    send(b.check(local));
    auto reply = receive_one();
    std::error_code ec;
    auto answer = stun::message_view::parse(reply, ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(answer.kind(), stun::message_class::success);
    EXPECT_TRUE(answer.integrity_ok(local.pwd));
    for (int i = 0; i < 20 && b.dtls->current() == dtls_transport::state::handshaking; ++i) {
      auto d = receive_one();
      if (d.empty()) break;
      b.dtls->on_datagram(d, transport::clock::now());
      for (auto& out : b.dtls->take_outgoing()) send(out);
    }
    run_until([&] { return !events.states.empty(); });
    if (b.dtls->current() != dtls_transport::state::connected) return false;
    b.keyed();
    return !events.states.empty() && events.states.back().first == transport::state::connected;
  }
};

TEST_F(port_test, ABrowserConnectsOverTheSharedPortAndMediaFlowsBothWays) {
  browser b(peer());
  b.expect(*ours);
  recorded& events = owner();
  const auto local = new_ice_credentials();
  auto id = port->add(local, b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                      dtls_transport::role::client, events);
  ASSERT_TRUE(id);
  EXPECT_EQ(metric(peers_gauge), 1u);
  ASSERT_TRUE(connect(b, local, events)) << (events.states.empty() ? "" : events.states.back().second);
  EXPECT_EQ(metric(connected), 1u);

  auto sent = rtp_packet(1, "opus");
  auto wire = sent;
  ASSERT_EQ(b.out->protect_rtp(wire), media::srtp::status::ok);
  b.send_to(port_at, wire);
  ASSERT_TRUE(run_until([&] { return !events.media.empty(); }));
  EXPECT_EQ(events.media[0].first, packet_kind::rtp);
  EXPECT_EQ(events.media[0].second, sent);
  EXPECT_EQ(metric(received), 1u);

  auto back = rtp_packet(2, "h264");
  ASSERT_TRUE(port->send(*id, packet_kind::rtp, back));
  auto got = receive(b.socket);
  ASSERT_EQ(b.in->unprotect_rtp(got), media::srtp::status::ok);
  EXPECT_EQ(got, back);

  // Ending the peer sends a close_notify and forgets it.
  port->remove(*id);
  EXPECT_EQ(port->peers(), 0u);
  EXPECT_EQ(metric(peers_gauge), 0u);
  auto bye = receive(b.socket);
  b.dtls->on_datagram(bye, transport::clock::now());
  EXPECT_EQ(b.dtls->current(), dtls_transport::state::closed);
}

TEST_F(port_test, StrangersAndUnknownUfragsAreCountedAndDropped) {
  browser b(peer());
  b.send_to(port_at, rtp_packet(1, "who"));
  b.send_to(port_at, b.check({"nobody00", "whatever-whatever-whatev"}));
  ASSERT_TRUE(run_until([&] { return metric(strangers) == 2; }));
  EXPECT_EQ(b.socket.available(), 0u);
}

TEST_F(port_test, TwoPeersShareThePortEachWithItsOwnKeys) {
  browser a(peer()), c(peer());
  a.expect(*ours);
  c.expect(*ours);
  recorded& ea = owner();
  recorded& ec = owner();
  const auto la = new_ice_credentials(), lc = new_ice_credentials();
  auto ia = port->add(la, a.ice.ufrag, *parse_fingerprint(a.certificate->fingerprint()), dtls_transport::role::client, ea);
  auto ic = port->add(lc, c.ice.ufrag, *parse_fingerprint(c.certificate->fingerprint()), dtls_transport::role::client, ec);
  ASSERT_TRUE(ia && ic);
  EXPECT_FALSE(port->add(la, "x", *parse_fingerprint(a.certificate->fingerprint()), dtls_transport::role::client, ea));
  ASSERT_TRUE(connect(a, la, ea));
  ASSERT_TRUE(connect(c, lc, ec));
  auto to_a = rtp_packet(1, "for a"), to_c = rtp_packet(1, "for c");
  ASSERT_TRUE(port->send(*ia, packet_kind::rtp, to_a));
  ASSERT_TRUE(port->send(*ic, packet_kind::rtp, to_c));
  auto got_a = receive(a.socket), got_c = receive(c.socket);
  ASSERT_EQ(a.in->unprotect_rtp(got_a), media::srtp::status::ok);
  ASSERT_EQ(c.in->unprotect_rtp(got_c), media::srtp::status::ok);
  EXPECT_EQ(got_a, to_a);
  EXPECT_EQ(got_c, to_c);
  // c's packet protected with c's keys, sent from a's address, is a's by its source and fails a's SRTP.
  auto wire = rtp_packet(5, "mixed up");
  ASSERT_EQ(c.out->protect_rtp(wire), media::srtp::status::ok);
  a.send_to(port_at, wire);
  auto frm = rtp_packet(6, "fine");
  auto good = frm;
  ASSERT_EQ(a.out->protect_rtp(good), media::srtp::status::ok);
  a.send_to(port_at, good);
  ASSERT_TRUE(run_until([&] { return !ea.media.empty(); }));
  EXPECT_EQ(ea.media.size(), 1u);
  EXPECT_EQ(ea.media[0].second, frm);
  EXPECT_TRUE(ec.media.empty());
}

TEST_F(port_test, AFullPortTakesNoMorePeers) {
  port->set_max_peers(1);
  browser a(peer()), c(peer());
  recorded& ea = owner();
  recorded& ec = owner();
  const auto fp = *parse_fingerprint(a.certificate->fingerprint());
  auto first = port->add(new_ice_credentials(), a.ice.ufrag, fp, dtls_transport::role::client, ea);
  ASSERT_TRUE(first);
  EXPECT_FALSE(port->add(new_ice_credentials(), c.ice.ufrag, fp, dtls_transport::role::client, ec));
  port->remove(*first);
  EXPECT_TRUE(port->add(new_ice_credentials(), c.ice.ufrag, fp, dtls_transport::role::client, ec));
  EXPECT_EQ(metric(peers_gauge), 1u);
}

TEST_F(port_test, APeerWhoseCertificateIsWrongFailsAndIsGone) {
  browser b(peer());
  browser impostor(peer());
  b.expect(*ours);
  recorded& events = owner();
  const auto local = new_ice_credentials();
  // The offer named the impostor's fingerprint; b's certificate comes instead.
  auto id = port->add(local, b.ice.ufrag, *parse_fingerprint(impostor.certificate->fingerprint()),
                      dtls_transport::role::client, events);
  ASSERT_TRUE(id);
  EXPECT_FALSE(connect(b, local, events));
  ASSERT_FALSE(events.states.empty());
  EXPECT_EQ(events.states.back().first, transport::state::failed);
  EXPECT_NE(events.states.back().second.find("fingerprint"), std::string::npos);
  EXPECT_EQ(port->peers(), 0u);
  EXPECT_EQ(metric(failed), 1u);
  EXPECT_EQ(metric(peers_gauge), 0u);
}

TEST_F(port_test, StoppingThePortEndsEachPeerAndTellsItsOwner) {
  browser b(peer());
  b.expect(*ours);
  recorded& events = owner();
  recorded& waiting = owner();
  const auto local = new_ice_credentials();
  ASSERT_TRUE(port->add(local, b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                        dtls_transport::role::client, events));
  ASSERT_TRUE(connect(b, local, events));
  ASSERT_TRUE(port->add(new_ice_credentials(), "other", *parse_fingerprint(b.certificate->fingerprint()),
                        dtls_transport::role::client, waiting));
  EXPECT_EQ(metric(peers_gauge), 2u);
  port->stop();
  EXPECT_EQ(port->peers(), 0u);
  EXPECT_EQ(metric(peers_gauge), 0u);
  // Each owner hears it once, the connected one and the one still checking alike.
  for (const recorded* r : {&events, &waiting}) {
    ASSERT_FALSE(r->states.empty());
    EXPECT_EQ(r->states.back().first, transport::state::closed);
    EXPECT_EQ(r->states.back().second, "the server is stopping");
  }
  EXPECT_EQ(events.states.size(), 2u);  // connected, closed
  EXPECT_EQ(waiting.states.size(), 1u);
  // The browser got a close_notify: it is not left believing itself connected.
  auto bye = receive(b.socket);
  b.dtls->on_datagram(bye, transport::clock::now());
  EXPECT_EQ(b.dtls->current(), dtls_transport::state::closed);
  // A stopped port takes no new peer.
  EXPECT_FALSE(port->add(new_ice_credentials(), "late", *parse_fingerprint(b.certificate->fingerprint()),
                         dtls_transport::role::client, waiting));
}

}  // namespace
}  // namespace junction::webrtc

namespace junction::webrtc {
namespace {

using asio::ip::tcp;

// ICE-TCP: the browser's checks, DTLS and SRTP over one TCP connection to the port's number,
// each framed with its length (RFC 4571); the port answers over the same connection.
struct tcp_port_test : port_test {
  bytes tcp_receive(tcp::socket& s) {
    if (!run_until([&] { return s.available() >= 2; })) return {};
    std::uint8_t length[2];
    asio::read(s, asio::buffer(length));
    const std::size_t n = std::size_t{length[0]} << 8 | length[1];
    if (!run_until([&] { return s.available() >= n; })) return {};
    bytes b(n);
    asio::read(s, asio::buffer(b));
    return b;
  }
  void tcp_send(tcp::socket& s, const bytes& packet) {
    bytes framed;
    ASSERT_TRUE(frame_for_tcp(packet, framed));
    asio::write(s, asio::buffer(framed));
  }
};

TEST_F(tcp_port_test, ABrowserConnectsOverIceTcpAndMediaFlowsBothWays) {
  boost::system::error_code ec;
  ASSERT_TRUE(port->listen_tcp(0, ec)) << ec.message();
  browser b(peer());  // its UDP socket unused: everything goes over TCP
  b.expect(*ours);
  recorded& events = owner();
  const auto local = new_ice_credentials();
  auto id = port->add(local, b.ice.ufrag, *parse_fingerprint(b.certificate->fingerprint()),
                      dtls_transport::role::client, events);
  ASSERT_TRUE(id);
  tcp::socket s(io());
  s.connect({loopback(), port->tcp_port()});
  ASSERT_TRUE(connect(b, local, events, [&](const bytes& p) { tcp_send(s, p); }, [&] { return tcp_receive(s); }))
      << (events.states.empty() ? "" : events.states.back().second);

  auto sent = rtp_packet(1, "opus over tcp");
  auto wire = sent;
  ASSERT_EQ(b.out->protect_rtp(wire), media::srtp::status::ok);
  tcp_send(s, wire);
  ASSERT_TRUE(run_until([&] { return !events.media.empty(); }));
  EXPECT_EQ(events.media[0].second, sent);
  auto back = rtp_packet(2, "h264 over tcp");
  ASSERT_TRUE(port->send(*id, packet_kind::rtp, back));
  auto got = tcp_receive(s);
  ASSERT_EQ(b.in->unprotect_rtp(got), media::srtp::status::ok);
  EXPECT_EQ(got, back);
  EXPECT_TRUE(quiet(b.socket));  // nothing went over UDP
}

TEST_F(tcp_port_test, GarbageOnAConnectionReachesNoPeer) {
  boost::system::error_code ec;
  ASSERT_TRUE(port->listen_tcp(0, ec)) << ec.message();
  tcp::socket s(io());
  s.connect({loopback(), port->tcp_port()});
  tcp_send(s, bytes(100, 0x42));
  tcp_send(s, rtp_packet(1, "unproven"));
  ASSERT_TRUE(run_until([&] { return metric(strangers) >= 2; }));
  EXPECT_EQ(port->peers(), 0u);
}

}  // namespace
}  // namespace junction::webrtc
