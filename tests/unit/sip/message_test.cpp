#include "sip/message.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"
#include "sip/parser.hpp"

namespace junction::sip {
namespace {

message parsed(const std::string& text) {
  parse_result r = parse_message(text, parse_limits{}, true);
  EXPECT_TRUE(r.ok()) << r.reason();
  return std::move(*r.msg);
}

TEST(Message, EditsAsAProxyWould) {
  message m = parsed(test::options_request("Route: <sip:proxy.example.com;lr>\n", "abc"));
  m.set_request_uri("sip:alice@192.0.2.9:5070");
  m.push_front(header_id::via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-proxy");
  m.set_value(header_id::max_forwards, "69");
  EXPECT_TRUE(m.remove_first(header_id::route));
  EXPECT_FALSE(m.remove_first(header_id::route));
  m.insert_before_first(header_id::call_id, header_id::record_route, "<sip:127.0.0.1;lr>");
  m.append("X-Added", "yes");

  parse_result again = parse_message(m.serialize(), parse_limits{}, true);
  ASSERT_TRUE(again.ok()) << again.reason();
  const message& f = *again.msg;
  EXPECT_EQ(f.request_uri().port, 5070);
  ASSERT_EQ(f.vias().size(), 2u);
  EXPECT_EQ(f.top_via().branch(), "z9hG4bK-proxy");
  EXPECT_EQ(f.max_forwards(), 69);
  EXPECT_EQ(f.count(header_id::route), 0u);
  EXPECT_EQ(f.value(header_id::record_route), "<sip:127.0.0.1;lr>");
  EXPECT_EQ(f.find("x-added")->value, "yes");
  EXPECT_EQ(f.body(), "abc");
}

TEST(Message, MovesAndClonesKeepTheirViews) {
  message m = parsed(test::options_request());
  m.append(header_id::subject, std::string(3, 's'));  // short: lives inside the string object
  message moved = std::move(m);
  EXPECT_EQ(moved.value(header_id::subject), "sss");
  EXPECT_EQ(moved.call_id(), "c1@192.0.2.1");
  message copy = moved.clone();
  moved.set_value(header_id::subject, "changed");
  EXPECT_EQ(copy.value(header_id::subject), "sss");
  EXPECT_EQ(copy.top_via().branch(), "z9hG4bK-1");
}

TEST(Message, SerializeWritesTheRealContentLength) {
  message m = parsed(test::options_request("", "12345"));
  std::string wire = m.serialize();
  EXPECT_NE(wire.find("Content-Length: 5\r\n\r\n12345"), std::string::npos);
}

}  // namespace
}  // namespace junction::sip

namespace junction::sip {
namespace {

TEST(Message, TopViaIsReplacedInsideItsList) {
  message m = parsed(test::crlf(
      "OPTIONS sip:a@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/UDP h2;branch=z9hG4bK2\n"
      "Via: SIP/2.0/UDP h3;branch=z9hG4bK3\n"
      "From: <sip:b@example.com>;tag=1\nTo: <sip:a@example.com>\nCall-ID: x\nCSeq: 1 OPTIONS\n"
      "Content-Length: 0\n\n"));
  m.set_top_via(stamp_via(m.top_via(), "192.0.2.1", 5060));
  parse_result again = parse_message(m.serialize(), parse_limits{}, true);
  ASSERT_TRUE(again.ok()) << again.reason();
  ASSERT_EQ(again.msg->vias().size(), 3u);
  EXPECT_EQ(again.msg->vias()[0].params.value("received"), "192.0.2.1");
  EXPECT_EQ(again.msg->vias()[1].host, "h2");
  EXPECT_EQ(again.msg->vias()[2].host, "h3");
}

}  // namespace
}  // namespace junction::sip
