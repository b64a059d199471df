// The SIP router as a pure core: a request in, a decision out (router.hpp).
#include "sip/router.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "sip/parser.hpp"
#include "sip/route_mark.hpp"

namespace junction::sip {
namespace {

using action = route_decision::action;

const std::string secret = "0123456789abcdef0123456789abcdef";

struct RouterTest : ::testing::Test {
  std::vector<std::string> domains{"example.com"};
  std::vector<std::pair<std::string, std::uint16_t>> advertised{{"192.0.2.10", 5060}};
  router_settings settings() const {
    router_settings s;
    s.domains = &domains;
    s.advertised = &advertised;
    s.route_secret = secret;
    s.shards = 4;
    return s;
  }
  router_settings s = settings();

  // A request with the given request line target and extra header lines.
  message request(std::string_view method, std::string_view target, std::string_view extra = {},
                  std::string_view to_tag = {}, int max_forwards = 70) {
    auto text = fmt::format(
        "{} {} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nMax-Forwards: {}\r\n{}"
        "From: <sip:alice@example.com>;tag=a\r\nTo: <{}>{}\r\nCall-ID: call-1\r\nCSeq: 1 {}\r\n"
        "Content-Length: 0\r\n\r\n",
        method, target, max_forwards, extra, method == "REGISTER" ? "sip:alice@example.com" : std::string{target},
        to_tag.empty() ? "" : ";tag=" + std::string{to_tag}, method);
    auto r = parse_message(text, parse_limits{}, true);
    EXPECT_TRUE(r.ok()) << r.reason() << "\n" << text;
    return std::move(*r.msg);
  }
  route_decision route(message& m, unsigned here = 0) { return route_request(m, 0, here, s); }
  // A Route naming this server, with its mark for call-1 (a dialog it record-routed).
  std::string our_route(std::string_view more = {}) {
    return fmt::format("Route: <sip:192.0.2.10:5060;lr;{}={}{}>\r\n", route_mark_param, make_route_mark(secret, "call-1"),
                       more);
  }
};

TEST_F(RouterTest, ARegisterGoesToItsAorsHomeShard) {
  auto m = request("REGISTER", "sip:example.com");
  auto d = route(m);
  EXPECT_EQ(d.what, action::registrar);
  EXPECT_EQ(d.aor, "sip:alice@example.com");
  EXPECT_EQ(d.shard, home_shard("sip:alice@example.com", 4));
  EXPECT_LT(d.shard, 4u);
  auto required = request("REGISTER", "sip:example.com", "Require: gruu\r\n");
  d = route(required);
  EXPECT_EQ(d.what, action::respond);
  EXPECT_EQ(d.status, 420);
  ASSERT_EQ(d.headers.size(), 1u);
  EXPECT_EQ(d.headers[0], std::pair(std::string{"Unsupported"}, std::string{"gruu"}));
}

TEST_F(RouterTest, OtherDomainsAreRefusedUnlessLocalUsersMayCallOut) {
  auto m = request("INVITE", "sip:bob@elsewhere.org");
  auto d = route(m);
  EXPECT_EQ(d.what, action::respond);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, "Relaying Not Allowed");
  auto ack = request("ACK", "sip:bob@elsewhere.org");
  EXPECT_EQ(route(ack).what, action::drop);
  s.outbound_authenticated = true;
  EXPECT_EQ(route(m).what, action::outbound);
}

TEST_F(RouterTest, ARequestForOurUserGoesToItsHomeShard) {
  auto m = request("INVITE", "sip:bob@example.com");
  auto d = route(m, 2);
  EXPECT_EQ(d.what, action::to_aor);
  EXPECT_EQ(d.aor, "sip:bob@example.com");
  EXPECT_EQ(d.shard, home_shard("sip:bob@example.com", 4));
  auto exhausted = request("MESSAGE", "sip:bob@example.com", {}, {}, 0);
  EXPECT_EQ(route(exhausted).status, 483);
  auto required = request("INVITE", "sip:bob@example.com", "Proxy-Require: foo\r\n");
  EXPECT_EQ(route(required).status, 420);
  auto tel = request("INVITE", "tel:+15551234");
  EXPECT_EQ(route(tel).status, 416);
}

TEST_F(RouterTest, TheServerAnswersWhatIsAddressedToItself) {
  auto options = request("OPTIONS", "sip:example.com");
  auto d = route(options);
  EXPECT_EQ(d.status, 200);
  ASSERT_FALSE(d.headers.empty());
  EXPECT_EQ(d.headers[0].first, "Allow");
  auto invite = request("INVITE", "sip:192.0.2.10:5060");
  EXPECT_EQ(route(invite).status, 404);
  auto bye = request("BYE", "sip:example.com");
  EXPECT_EQ(route(bye).status, 481);
  auto subscribe = request("SUBSCRIBE", "sip:example.com", "Event: dialog\r\n");
  EXPECT_EQ(route(subscribe).status, 489);
  auto refer = request("REFER", "sip:example.com");
  EXPECT_EQ(route(refer).status, 405);
  auto other = request("FOO", "sip:example.com");
  EXPECT_EQ(route(other).status, 501);
}

TEST_F(RouterTest, PresenceGoesToThePresentitysHomeShard) {
  auto subscribe = request("SUBSCRIBE", "sip:bob@example.com", "Event: presence\r\n");
  auto d = route(subscribe);
  EXPECT_EQ(d.what, action::presence);
  EXPECT_EQ(d.aor, "sip:bob@example.com");
  EXPECT_EQ(d.shard, home_shard("sip:bob@example.com", 4));
  auto publish = request("PUBLISH", "sip:bob@example.com", "Event: presence\r\n");
  EXPECT_EQ(route(publish).what, action::presence);
  // Other packages go to the user's devices.
  auto dialog_package = request("SUBSCRIBE", "sip:bob@example.com", "Event: dialog\r\n");
  EXPECT_EQ(route(dialog_package).what, action::to_aor);
}

TEST_F(RouterTest, ARouteThatIsNotUsIsNotFollowed) {
  auto m = request("INVITE", "sip:bob@example.com", "Route: <sip:198.51.100.1;lr>\r\n");
  auto d = route(m);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, "Relaying Not Allowed (Route Is Not This Server)");
}

TEST_F(RouterTest, ARouteNamingUsWithoutOurMarkRelaysNothing) {
  // An attacker names this server first and a victim after it: not a dialog of ours.
  auto m = request("INVITE", "sip:victim@198.51.100.1",
                   "Route: <sip:192.0.2.10:5060;lr>\r\nRoute: <sip:198.51.100.1;lr>\r\n", "x");
  auto d = route(m);
  EXPECT_EQ(d.what, action::respond);
  EXPECT_EQ(d.status, 403);
  EXPECT_TRUE(d.transactional);
  auto forged = request("BYE", "sip:victim@198.51.100.1",
                        fmt::format("Route: <sip:192.0.2.10:5060;lr;{}=00112233445566778899aabbccddeeff>\r\n",
                                    route_mark_param),
                        "x");
  EXPECT_EQ(route(forged).status, 403);
}

TEST_F(RouterTest, InsideOurDialogTheRequestGoesOnToTheNextHop) {
  auto m = request("BYE", "sip:bob@198.51.100.7:5070", our_route(), "b");
  auto d = route(m);
  EXPECT_EQ(d.what, action::in_dialog);
  EXPECT_EQ(d.next_host, "198.51.100.7");
  EXPECT_EQ(d.next_port, 5070);
  EXPECT_TRUE(d.transactional);
  EXPECT_EQ(m.find(header_id::route), nullptr);  // popped
  auto cancel = request("CANCEL", "sip:bob@198.51.100.7", our_route(), "b");
  EXPECT_EQ(route(cancel).status, 481);
  auto named = request("BYE", "sip:bob@phone.example.org", our_route(), "b");
  EXPECT_EQ(route(named).status, 404);
  auto ipv6 = request("BYE", "sip:bob@[2001:db8::1]:5080", our_route(), "b");
  d = route(ipv6);
  EXPECT_EQ(d.what, action::in_dialog);
  EXPECT_EQ(d.next_host, "2001:db8::1");
}

TEST_F(RouterTest, ADialogRecordRoutedTwiceGoesOnOverTheFlowItsSecondRouteNames) {
  // A side on a flow (RFC 5658 double Record-Route): both Routes name this server (the second
  // its TLS listener), the second carries the flow's token.
  std::vector<std::uint16_t> tls_ports{5061};
  s.other_ports = &tls_ports;
  const auto mark = make_route_mark(secret, "call-1");
  auto routes = [&](std::string_view token) {
    return fmt::format("Route: <sip:192.0.2.10:5060;lr;{0}={1}>\r\nRoute: <sip:192.0.2.10:5061;transport=tls;lr;{0}={1}{2}>\r\n",
                       route_mark_param, mark, token);
  };
  auto m = request("BYE", "sip:bob@192.0.2.1:40100;transport=tls",
                   routes(fmt::format(";{}={}", flow_param, make_flow_token(secret, "call-1", 77))), "b");
  auto d = route(m);
  EXPECT_EQ(d.what, action::in_dialog);
  EXPECT_EQ(d.flow, 77u);
  EXPECT_EQ(d.flow_transport, "tls");
  EXPECT_EQ(d.next_host, "192.0.2.1");
  EXPECT_EQ(m.find(header_id::route), nullptr);  // both popped

  // A token for another dialog, a forged flow or a bare one: by address, never that flow.
  for (const std::string& token : {make_flow_token(secret, "call-2", 77), std::string("78.") + mark, std::string("77")}) {
    auto forged = request("BYE", "sip:bob@192.0.2.1:40100;transport=tls",
                          routes(fmt::format(";{}={}", flow_param, token)), "b");
    auto f = route(forged);
    EXPECT_EQ(f.what, action::in_dialog) << token;
    EXPECT_EQ(f.flow, 0u) << token;
  }
  // Without the second Route naming this server, nothing changes (one Record-Route, UDP).
  auto single = request("BYE", "sip:bob@198.51.100.7:5070", our_route(), "b");
  EXPECT_EQ(route(single).flow, 0u);

  // A WebSocket client's Contact names no address (RFC 7118): over its flow that is no matter,
  // for requests and ACKs alike; without the flow it is a 404 (an ACK: dropped).
  for (const char* method : {"BYE", "ACK"}) {
    auto ws = request(method, "sip:wendy@df7jal23ls0d.invalid;transport=ws",
                      routes(fmt::format(";{}={}", flow_param, make_flow_token(secret, "call-1", 78))), "b");
    auto w = route(ws);
    EXPECT_EQ(w.what, action::in_dialog) << method;
    EXPECT_EQ(w.flow, 78u) << method;
  }
  auto lost = request("BYE", "sip:wendy@df7jal23ls0d.invalid;transport=ws", routes(""), "b");
  EXPECT_EQ(route(lost).status, 404);
}

TEST(RouteMark, FlowTokensRoundTripAndAreBoundToTheDialog) {
  const auto token = make_flow_token(secret, "call-1", 123456789012345ull);
  EXPECT_EQ(read_flow_token(secret, "call-1", token), 123456789012345ull);
  EXPECT_EQ(read_flow_token(secret, "call-2", token), std::nullopt);
  EXPECT_EQ(read_flow_token("another secret, as long as it must be", "call-1", token), std::nullopt);
  for (std::string_view bad : {"", ".", "1.", ".abc", "x1.abc", "99999999999999999999999.ab"})
    EXPECT_EQ(read_flow_token(secret, "call-1", bad), std::nullopt) << bad;
}

TEST_F(RouterTest, OurRouteToOneOfOurUsersIsLocal) {
  // A phone using this server as its outbound proxy: the Route names us, the user is ours.
  auto m = request("INVITE", "sip:bob@example.com", "Route: <sip:192.0.2.10:5060;lr>\r\n");
  auto d = route(m);
  EXPECT_EQ(d.what, action::to_aor);
  EXPECT_EQ(d.aor, "sip:bob@example.com");
}

TEST_F(RouterTest, AnAnchoredCallsReInviteGoesToTheShardThatRelaysIt) {
  s.anchoring = true;
  const auto relay = fmt::format(";{}=3", anchor_shard_param);
  auto reinvite = request("INVITE", "sip:bob@198.51.100.7", our_route(relay), "b");
  auto d = route(reinvite, 1);
  EXPECT_EQ(d.what, action::hand_over);
  EXPECT_EQ(d.shard, 3u);
  EXPECT_NE(reinvite.find(header_id::route), nullptr);  // routed again there, as it came
  auto there = request("INVITE", "sip:bob@198.51.100.7", our_route(relay), "b");
  EXPECT_EQ(route(there, 3).what, action::in_dialog);
  auto bye = request("BYE", "sip:bob@198.51.100.7", our_route(relay), "b");
  d = route(bye, 1);
  EXPECT_EQ(d.what, action::in_dialog);
  EXPECT_EQ(d.end_relay_on, 3u);
  auto beyond = request("BYE", "sip:bob@198.51.100.7", our_route(fmt::format(";{}=99", anchor_shard_param)), "b");
  EXPECT_FALSE(route(beyond, 1).end_relay_on);
}

TEST(HomeShard, StableAndWithinRange) {
  EXPECT_EQ(home_shard("alice@example.com", 8), home_shard("alice@example.com", 8));
  for (auto aor : {"a@x", "b@x", "c@y", "alice@example.com"}) EXPECT_LT(home_shard(aor, 3), 3u);
  EXPECT_EQ(home_shard("a@x", 1), 0u);
}

}  // namespace
}  // namespace junction::sip
