#include "sip/request.hpp"

#include <gtest/gtest.h>

#include "sip/parser.hpp"

namespace junction::sip {
namespace {

TEST(MakeRequest, WritesTheHeadersInOrderAndParsesBack) {
  request_spec r;
  r.method = "INVITE";
  r.request_uri = "sip:bob@example.com";
  r.routes = {"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"};
  r.from = "\"Alice\" <sip:alice@example.com>;tag=a1";
  r.to = "<sip:bob@example.com>";
  r.call_id = "c1@h";
  r.cseq = 7;
  r.contact = "<sip:alice@192.0.2.1:5060>";
  r.headers = {{"User-Agent", "junction"}};
  r.content_type = "application/sdp";
  r.body = "v=0\r\n";
  const auto wire = make_request(r, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx");
  EXPECT_EQ(wire,
            "INVITE sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"
            "Max-Forwards: 70\r\n"
            "Route: <sip:p1.example.com;lr>\r\n"
            "Route: <sip:p2.example.com;lr>\r\n"
            "From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: c1@h\r\n"
            "CSeq: 7 INVITE\r\n"
            "Contact: <sip:alice@192.0.2.1:5060>\r\n"
            "User-Agent: junction\r\n"
            "Content-Type: application/sdp\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "v=0\r\n");
  auto parsed = parse_message(wire, parse_limits{}, true);
  ASSERT_TRUE(parsed.ok()) << parsed.reason();
  EXPECT_EQ(parsed.msg->method(), "INVITE");
  EXPECT_EQ(parsed.msg->cseq(), 7u);
  EXPECT_EQ(parsed.msg->from().tag(), "a1");
  EXPECT_EQ(parsed.msg->body(), "v=0\r\n");
}

TEST(MakeRequest, WithoutBodyOrContact) {
  request_spec r{.method = "BYE", .request_uri = "sip:b@h", .from = "<sip:a@h>;tag=1", .to = "<sip:b@h>;tag=2",
                 .call_id = "x", .cseq = 2};
  const auto wire = make_request(r, "SIP/2.0/UDP h;branch=z9hG4bKy");
  EXPECT_EQ(wire.find("Contact:"), std::string::npos);
  EXPECT_EQ(wire.find("Content-Type:"), std::string::npos);
  EXPECT_NE(wire.find("CSeq: 2 BYE\r\n"), std::string::npos);
  EXPECT_TRUE(wire.ends_with("Content-Length: 0\r\n\r\n"));
  EXPECT_TRUE(parse_message(wire, parse_limits{}, true).ok());
}

}  // namespace
}  // namespace junction::sip
