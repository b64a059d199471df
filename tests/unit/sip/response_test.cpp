#include "sip/response.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"
#include "sip/parser.hpp"

namespace junction::sip {
namespace {

TEST(Response, CopiesTheTransactionHeadersAndTagsTo) {
  parse_result req = parse_message(
      test::options_request("Via: SIP/2.0/TCP second.example.com;branch=z9hG4bK-2\n"),
      parse_limits{}, true);
  ASSERT_TRUE(req.ok());
  std::string wire = make_response(*req.msg, 200,
                                   {.to_tag = "t9", .headers = {{"Allow", "INVITE, ACK"}},
                                    .content_type = "text/plain", .body = "ok"});
  parse_result r = parse_message(wire, parse_limits{}, true);
  ASSERT_TRUE(r.ok()) << r.reason() << "\n" << wire;
  EXPECT_EQ(r.msg->status(), 200);
  EXPECT_EQ(r.msg->reason(), "OK");
  ASSERT_EQ(r.msg->vias().size(), 2u);
  EXPECT_EQ(r.msg->vias()[1].host, "second.example.com");
  EXPECT_EQ(r.msg->to().tag(), "t9");
  EXPECT_EQ(r.msg->from().tag(), "f1");
  EXPECT_EQ(r.msg->call_id(), "c1@192.0.2.1");
  EXPECT_EQ(r.msg->cseq_method(), "OPTIONS");
  EXPECT_EQ(r.msg->value(header_id::allow), "INVITE, ACK");
  EXPECT_EQ(r.msg->body(), "ok");

  std::string trying = make_response(*req.msg, 100, {.to_tag = "t9"});
  EXPECT_EQ(trying.find("tag=t9"), std::string::npos);  // 100 Trying never adds a tag
}

TEST(Response, AMalformedRequestStillGetsA400) {
  std::string text = test::options_request();
  text.replace(text.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
  parse_result req = parse_message(text, parse_limits{}, true);
  ASSERT_TRUE(req.answerable());
  std::string wire = make_response(*req.msg, req.status(), {.reason = req.reason(), .to_tag = "x"});
  EXPECT_TRUE(wire.starts_with("SIP/2.0 400 CSeq Method Does Not Match\r\n")) << wire;
  EXPECT_NE(wire.find("Call-ID: c1@192.0.2.1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace junction::sip
