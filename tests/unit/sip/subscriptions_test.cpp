#include "sip/subscriptions.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"
#include "sip/parser.hpp"

namespace junction::sip {
namespace {

using namespace std::chrono_literals;
const sip_clock::time_point t0{std::chrono::hours(1000)};

message subscribe(std::string_view extra, std::uint32_t cseq = 1, std::string_view to_tag = "",
                  std::string_view event = "presence") {
  std::string text = test::crlf(
      "SUBSCRIBE sip:alice@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-s" + std::to_string(cseq) + "\n"
      "Max-Forwards: 70\n"
      "From: \"Bob\" <sip:bob@example.com>;tag=bobtag\n"
      "To: <sip:alice@example.com>" + (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\n"
      "Call-ID: sub-1@192.0.2.9\n"
      "CSeq: " + std::to_string(cseq) + " SUBSCRIBE\n"
      "Contact: <sip:bob@192.0.2.9:5070>\n"
      "Event: " + std::string(event) + "\n");
  text += test::crlf(extra);
  text += "Content-Length: 0\r\n\r\n";
  auto r = parse_message(text, parse_limits{}, true);
  EXPECT_TRUE(r.ok()) << r.reason();
  return std::move(*r.msg);
}

subscription_table table() { return subscription_table({60, 3600, 3600, 3}); }

TEST(Subscriptions, EventHeaders) {
  auto e = parse_event("Presence ;id=abc");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->package, "presence");
  EXPECT_EQ(e->id, "abc");
  EXPECT_FALSE(parse_event(""));
  EXPECT_FALSE(parse_event("pres ence"));
}

TEST(Subscriptions, CreateRefreshAndUnsubscribe) {
  auto t = table();
  auto first = t.subscribe(subscribe("Expires: 600\nRecord-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"),
                           "sip:alice@example.com", "bob@example.com", "ourtag", 7, t0);
  ASSERT_EQ(first.status, 200);
  ASSERT_TRUE(first.created);
  EXPECT_EQ(first.expires, 600u);
  const subscription& s = *first.sub;
  EXPECT_EQ(s.remote_target, "sip:bob@192.0.2.9:5070");
  EXPECT_EQ(s.local_header, "<sip:alice@example.com>;tag=ourtag");
  EXPECT_EQ(s.remote_header, "\"Bob\" <sip:bob@example.com>;tag=bobtag");
  EXPECT_EQ(s.route_set, (std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
  EXPECT_EQ(t.watching("sip:alice@example.com"), std::vector<std::uint64_t>{7});

  // The same request again (its 200 was lost) is recognised, not a second dialog.
  auto again = t.subscribe(subscribe("Expires: 600\n"), "sip:alice@example.com", "bob@example.com", "ourtag", 8, t0);
  EXPECT_TRUE(again.retransmission);
  EXPECT_EQ(t.size(), 1u);

  auto refresh = t.subscribe(subscribe("Expires: 300\n", 2, "ourtag"), "sip:alice@example.com", "bob@example.com",
                             "unused", 9, t0 + 100s);
  ASSERT_EQ(refresh.status, 200);
  EXPECT_FALSE(refresh.created);
  EXPECT_EQ(refresh.sub->id, 7u);
  EXPECT_EQ(refresh.sub->seconds_left(t0 + 100s), 300u);
  EXPECT_EQ(t.subscribe(subscribe("Expires: 300\n", 2, "ourtag"), "sip:alice@example.com", "bob@example.com", "x",
                        9, t0 + 101s)
                .status,
            500);  // an old CSeq
  EXPECT_EQ(t.subscribe(subscribe("", 3, "othertag"), "sip:alice@example.com", "bob@example.com", "x", 9, t0).status,
            481);  // no such dialog

  EXPECT_TRUE(t.expired(t0 + 399s).empty());
  EXPECT_EQ(t.expired(t0 + 400s), std::vector<std::uint64_t>{7});
  auto bye = t.subscribe(subscribe("Expires: 0\n", 3, "ourtag"), "sip:alice@example.com", "bob@example.com", "x", 9,
                         t0 + 200s);
  EXPECT_EQ(bye.status, 200);
  EXPECT_EQ(bye.expires, 0u);
  t.remove(7);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.watching("sip:alice@example.com").empty());
}

TEST(Subscriptions, RefusedRequests) {
  auto t = table();
  auto brief = t.subscribe(subscribe("Expires: 5\n"), "sip:alice@example.com", "bob@example.com", "a", 1, t0);
  EXPECT_EQ(brief.status, 423);
  EXPECT_EQ(brief.min_expires, 60u);
  for (std::uint64_t id = 1; id <= 3; ++id)
    EXPECT_EQ(t.subscribe(subscribe("", 1), "sip:alice@example.com", "b@x", std::to_string(id), id, t0).status, 200);
  EXPECT_EQ(t.subscribe(subscribe("", 1), "sip:alice@example.com", "b@x", "4", 4, t0).status, 503);  // full
}

TEST(Subscriptions, TheRemoteTargetIsARequestUri) {
  auto t = table();
  // Found by the presence fuzzer: a Contact with URI headers made NOTIFYs nobody could parse.
  std::string text = test::crlf(
      "SUBSCRIBE sip:alice@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-h\n"
      "From: <sip:bob@example.com>;tag=b\nTo: <sip:alice@example.com>\nCall-ID: h\nCSeq: 1 SUBSCRIBE\n"
      "Contact: <sip:bob@192.0.2.9:50?Subject=x>\nEvent: presence\nContent-Length: 0\n\n");
  auto r = parse_message(text, parse_limits{}, true);
  ASSERT_TRUE(r.ok()) << r.reason();
  auto out = t.subscribe(*r.msg, "sip:alice@example.com", "bob@example.com", "a", 1, t0);
  ASSERT_EQ(out.status, 200);
  EXPECT_EQ(out.sub->remote_target, "sip:bob@192.0.2.9:50");
  std::string tel = text;
  tel.replace(tel.find("sip:bob@192.0.2.9:50?Subject=x"), 30, "tel:+15551234");
  auto r2 = parse_message(tel, parse_limits{}, true);
  ASSERT_TRUE(r2.ok()) << r2.reason();
  EXPECT_EQ(t.subscribe(*r2.msg, "sip:alice@example.com", "bob@example.com", "b", 2, t0).status, 400);
}

TEST(Subscriptions, NotifyFollowsTheDialog) {
  auto t = table();
  auto out = t.subscribe(subscribe("Record-Route: <sip:p1.example.com;lr>\n", 1, "", "presence;id=77"),
                         "sip:alice@example.com", "bob@example.com", "ourtag", 1, t0);
  ASSERT_EQ(out.status, 200);
  std::string n1 = make_notify(*out.sub, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-n1", "sip:192.0.2.1:5060",
                               {subscription_state::active, 3600, {}, "<presence/>"});
  auto parsed = parse_message(n1, parse_limits{}, true);
  ASSERT_TRUE(parsed.ok()) << parsed.reason() << "\n" << n1;
  const message& n = *parsed.msg;
  EXPECT_EQ(n.method(), "NOTIFY");
  EXPECT_EQ(n.request_uri_text(), "sip:bob@192.0.2.9:5070");
  EXPECT_EQ(n.value(header_id::route), "<sip:p1.example.com;lr>");
  EXPECT_EQ(n.from().tag(), "ourtag");
  EXPECT_EQ(n.to().tag(), "bobtag");
  EXPECT_EQ(n.call_id(), "sub-1@192.0.2.9");
  EXPECT_EQ(n.cseq(), 1u);
  EXPECT_EQ(n.value(header_id::event), "presence;id=77");
  EXPECT_EQ(n.value(header_id::subscription_state), "active;expires=3600");
  EXPECT_EQ(n.value(header_id::content_type), "application/pidf+xml");
  EXPECT_EQ(n.body(), "<presence/>");

  std::string n2 = make_notify(*out.sub, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-n2", "sip:192.0.2.1:5060",
                               {subscription_state::terminated, 0, "timeout", {}});
  auto second = parse_message(n2, parse_limits{}, true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.msg->cseq(), 2u);  // each NOTIFY a new CSeq
  EXPECT_EQ(second.msg->value(header_id::subscription_state), "terminated;reason=timeout");
  EXPECT_EQ(second.msg->find(header_id::content_type), nullptr);
  EXPECT_TRUE(second.msg->body().empty());
}

}  // namespace
}  // namespace junction::sip
