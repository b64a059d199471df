#include "sip/parser.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"

namespace junction::sip {
namespace {

using test::crlf;
using test::options_request;

TEST(Parser, ARequest) {
  parse_result r = parse_message(options_request("Supported: path\nX-Custom: kept as is\n", "hello"),
                                 parse_limits{}, true);
  ASSERT_TRUE(r.ok()) << r.reason();
  const message& m = *r.msg;
  EXPECT_TRUE(m.is_request());
  EXPECT_EQ(m.method(), "OPTIONS");
  EXPECT_EQ(m.request_uri().user, "alice");
  EXPECT_EQ(m.call_id(), "c1@192.0.2.1");
  EXPECT_EQ(m.cseq(), 1u);
  EXPECT_EQ(m.from().tag(), "f1");
  EXPECT_EQ(m.top_via().branch(), "z9hG4bK-1");
  EXPECT_EQ(m.max_forwards(), 70);
  EXPECT_EQ(m.value(header_id::supported), "path");
  EXPECT_EQ(m.find("x-custom")->value, "kept as is");
  EXPECT_EQ(m.body(), "hello");
}

TEST(Parser, CompactFormsAndLeadingBlankLines) {
  std::string text = crlf(
      "\n\nMESSAGE sip:a@example.com SIP/2.0\n"
      "v: SIP/2.0/TCP h;branch=z9hG4bKa, SIP/2.0/UDP g;branch=z9hG4bKb\n"
      "f: sip:b@example.com;tag=1\nt: sip:a@example.com\ni: x\nCSeq: 2 MESSAGE\n"
      "c: text/plain\nm: <sip:b@h>\nl: 2\n\nhi");
  parse_result r = parse_message(text, parse_limits{}, false);
  ASSERT_TRUE(r.ok()) << r.reason();
  EXPECT_EQ(r.msg->vias().size(), 2u);
  EXPECT_EQ(r.msg->value(header_id::content_type), "text/plain");
  EXPECT_EQ(r.msg->contacts().size(), 1u);
  EXPECT_EQ(r.msg->body(), "hi");
}

TEST(Parser, ContentLengthIsRequiredOnStreamsOnly) {
  std::string text = options_request();
  text.erase(text.find("Content-Length: 0\r\n"), 19);
  EXPECT_TRUE(parse_message(text, parse_limits{}, true).ok());
  EXPECT_EQ(parse_message(text, parse_limits{}, false).status(), 400);
}

struct bad_case {
  const char* name;
  std::string text;
  int status;
  parse_errc why;
};

TEST(Parser, MalformedRequestsGetTheirAnswer) {
  std::string good = options_request();
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const bad_case cases[] = {
      {"no colon", replace("Max-Forwards: 70", "Max-Forwards 70"), 400, parse_errc::malformed_header_field},
      {"bad header name", replace("Max-Forwards:", "Max Forwards:"), 400, parse_errc::malformed_header_name},
      {"bare LF inside a line", replace("Max-Forwards: 70", "Max-Forwards: 7\n0"), 400, parse_errc::bad_line_end},
      {"missing Via", replace("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n", ""), 400, parse_errc::missing_via},
      {"missing CSeq", replace("CSeq: 1 OPTIONS\r\n", ""), 400, parse_errc::missing_cseq},
      {"CSeq without method", replace("CSeq: 1 OPTIONS", "CSeq: 1"), 400, parse_errc::bad_cseq},
      {"CSeq of 2^31", replace("CSeq: 1 OPTIONS", "CSeq: 2147483648 OPTIONS"), 400, parse_errc::bad_cseq},
      {"Max-Forwards 256", replace("Max-Forwards: 70", "Max-Forwards: 256"), 400, parse_errc::bad_max_forwards},
      {"Expires not digits", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nExpires: soon"), 400, parse_errc::bad_expires},
      {"Route not bracketed", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nRoute: sip:p@h;lr"), 400, parse_errc::bad_route},
      {"SIP/3.0", replace("SIP/2.0\r\n", "SIP/3.0\r\n"), 505, parse_errc::version_not_supported},
      {"HTTP", replace("SIP/2.0\r\n", "HTTP/1.1\r\n"), 400, parse_errc::bad_sip_version},
      {"method not a token", replace("OPTIONS sip", "OPT(IONS sip"), 400, parse_errc::bad_method},
      {"Call-ID with a space", replace("Call-ID: c1@192.0.2.1", "Call-ID: c1 x"), 400, parse_errc::bad_call_id},
  };
  for (const auto& c : cases) {
    parse_result r = parse_message(c.text, parse_limits{}, true);
    EXPECT_EQ(r.status(), c.status) << c.name;
    EXPECT_EQ(r.error, c.why) << c.name << ": " << r.error.message();
    EXPECT_EQ(r.error.category().name(), std::string("sip.parse")) << c.name;
    EXPECT_EQ(r.reason(), r.error.message()) << c.name;  // the phrase the 400 carries
    EXPECT_TRUE(r.answerable()) << c.name;
  }
}

TEST(Parser, LimitsAreEnforced) {
  parse_limits small;
  small.max_headers = 8;
  EXPECT_EQ(parse_message(options_request("A: 1\nB: 2\n"), small, true).status(), 400);

  parse_limits short_lines;
  short_lines.max_line = 40;
  EXPECT_EQ(parse_message(options_request("X: " + std::string(60, 'x') + "\n"), short_lines, true).status(), 400);

  parse_limits tiny;
  tiny.max_message = 100;
  parse_result big = parse_message(options_request(), tiny, true);
  EXPECT_EQ(big.status(), 513);
  EXPECT_EQ(big.error, parse_errc::message_too_large);
  EXPECT_EQ(big.reason(), "Message Too Large");
  EXPECT_FALSE(big.answerable());  // too big to even read its headers

  parse_limits few;
  few.max_list_items = 2;
  EXPECT_EQ(parse_message(options_request("Contact: <sip:a@b>, <sip:c@d>, <sip:e@f>\n"), few, true).status(), 400);
}

TEST(Parser, GarbageIsNotAnswered) {
  for (std::string_view junk : {std::string_view("hello"), std::string_view("\r\n\r\n"),
                                std::string_view("SIP/2.0 99 x\r\n\r\n"), std::string_view("")}) {
    parse_result r = parse_message(junk, parse_limits{}, true);
    EXPECT_NE(r.status(), 0);
    EXPECT_FALSE(r.answerable()) << junk;
  }
}

}  // namespace
}  // namespace junction::sip
