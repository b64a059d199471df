// Every RFC 4475 torture message through the parser: the valid ones parse, the invalid ones
// get the answer the RFC asks for (400, 505, or nothing for a response). Services decide the
// application-layer answers (416, 420, 415, ...); test_sip.py checks those end to end.
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "sip/parser.hpp"

namespace junction::sip {
namespace {

std::string vector_bytes(const std::string& name) {
  std::ifstream in(std::string(JUNCTION_SOURCE_DIR) + "/tests/vectors/rfc4475/" + name + ".dat",
                   std::ios::binary);
  EXPECT_TRUE(in) << name;
  return {std::istreambuf_iterator<char>(in), {}};
}

struct verdict {
  const char* file;
  int status;        // what parse_message says (0 = well formed)
  bool answerable;   // a request that gets a response for it
};

class Torture : public ::testing::TestWithParam<verdict> {};

TEST_P(Torture, ParserGivesTheRfcVerdict) {
  const verdict& v = GetParam();
  parse_result r = parse_message(vector_bytes(v.file), parse_limits{}, /*datagram=*/true);
  EXPECT_EQ(r.status(), v.status) << v.file << ": " << r.reason();
  EXPECT_EQ(r.answerable(), v.answerable) << v.file;
  if (v.status == 0) {
    ASSERT_TRUE(r.msg);
    // What parsed once serializes into something that parses the same way.
    parse_result again = parse_message(r.msg->serialize(), parse_limits{}, true);
    ASSERT_TRUE(again.ok()) << v.file << ": " << again.reason();
    EXPECT_EQ(again.msg->call_id(), r.msg->call_id());
    EXPECT_EQ(again.msg->cseq(), r.msg->cseq());
    EXPECT_EQ(again.msg->body(), r.msg->body());
    EXPECT_EQ(again.msg->vias().size(), r.msg->vias().size());
  }
}

// RFC 4475 §3.1.1 (valid), §3.2, §3.3 and §3.4 messages parse; the application layer decides.
INSTANTIATE_TEST_SUITE_P(
    Valid, Torture,
    ::testing::Values(verdict{"wsinv", 0, false}, verdict{"intmeth", 0, false},
                      verdict{"esc01", 0, false}, verdict{"escnull", 0, false},
                      verdict{"esc02", 0, false}, verdict{"lwsdisp", 0, false},
                      verdict{"longreq", 0, false}, verdict{"dblreq", 0, false},
                      verdict{"semiuri", 0, false}, verdict{"transports", 0, false},
                      verdict{"mpart01", 0, false}, verdict{"unreason", 0, false},
                      verdict{"noreason", 0, false}, verdict{"badbranch", 0, false},
                      verdict{"unkscm", 0, false}, verdict{"novelsc", 0, false},
                      verdict{"unksm2", 0, false}, verdict{"bext01", 0, false},
                      verdict{"invut", 0, false}, verdict{"regaut01", 0, false},
                      verdict{"bcast", 0, false}, verdict{"zeromf", 0, false},
                      verdict{"cparam01", 0, false}, verdict{"cparam02", 0, false},
                      verdict{"regescrt", 0, false}, verdict{"sdp01", 0, false},
                      verdict{"inv2543", 0, false}),
    [](const auto& info) { return std::string(info.param.file); });

// RFC 4475 §3.1.2 (invalid) and the §3.3 ones a parser already refuses.
INSTANTIATE_TEST_SUITE_P(
    Invalid, Torture,
    ::testing::Values(verdict{"badinv01", 400, true}, verdict{"clerr", 400, true},
                      verdict{"ncl", 400, true}, verdict{"scalar02", 400, true},
                      verdict{"quotbal", 400, true}, verdict{"ltgtruri", 400, true},
                      verdict{"lwsruri", 400, true}, verdict{"lwsstart", 400, true},
                      verdict{"trws", 400, true}, verdict{"escruri", 400, true},
                      verdict{"baddate", 400, true}, verdict{"regbadct", 400, true},
                      verdict{"badaspec", 400, true}, verdict{"baddn", 400, true},
                      verdict{"badvers", 505, true}, verdict{"mismatch01", 400, true},
                      verdict{"mismatch02", 400, true}, verdict{"insuf", 400, true},
                      verdict{"multi01", 400, true}, verdict{"mcl01", 400, true},
                      verdict{"scalarlg", 400, false}, verdict{"bigcode", 400, false}),
    [](const auto& info) { return std::string(info.param.file); });

TEST(TortureDetails, WhitespaceAndFoldingAreUnderstood) {
  parse_result r = parse_message(vector_bytes("wsinv"), parse_limits{}, true);
  ASSERT_TRUE(r.ok()) << r.reason();
  const message& m = *r.msg;
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.request_uri().host, "chair-dnrc.example.com");
  EXPECT_EQ(m.to().tag(), "1918181833n");
  EXPECT_EQ(m.from().tag(), "98asjd8");
  EXPECT_EQ(m.from().display, R"("J Rosenberg \\\"")");
  EXPECT_EQ(m.max_forwards(), 68);
  EXPECT_EQ(m.cseq(), 9u);
  EXPECT_EQ(m.cseq_method(), "INVITE");
  ASSERT_EQ(m.vias().size(), 3u);
  EXPECT_EQ(m.vias()[0].transport, "UDP");
  EXPECT_EQ(m.vias()[0].host, "192.0.2.2");
  EXPECT_EQ(m.vias()[1].transport, "TCP");
  EXPECT_EQ(m.vias()[1].branch(), "z9hG4bK9ikj8");
  EXPECT_EQ(m.vias()[2].branch(), "z9hG4bK30239");
  ASSERT_EQ(m.contacts().size(), 1u);
  EXPECT_EQ(m.contacts()[0].params.value("q"), "0.33");
  EXPECT_EQ(m.contacts()[0].params.value("newparam"), "newvalue");
  EXPECT_EQ(m.body().size(), 150u);
  EXPECT_EQ(m.value(header_id::subject), "");
  ASSERT_NE(m.find("NewFangledHeader"), nullptr);
  EXPECT_EQ(m.find("NewFangledHeader")->value, "newfangled value   continued newfangled value");
}

TEST(TortureDetails, ExtraBytesAfterADatagramBodyAreIgnored) {
  parse_result r = parse_message(vector_bytes("dblreq"), parse_limits{}, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.msg->method(), "REGISTER");
  EXPECT_TRUE(r.msg->body().empty());
}

TEST(TortureDetails, EscapedMethodIsAnUnknownMethodNotRegister) {
  parse_result r = parse_message(vector_bytes("esc02"), parse_limits{}, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.msg->method(), "RE%47IST%45R");
  EXPECT_EQ(r.msg->contacts().size(), 2u);  // "C%6Fntact" is some other header
}

TEST(TortureDetails, ResponsesWithoutOrWithOddReasons) {
  parse_result none = parse_message(vector_bytes("noreason"), parse_limits{}, true);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.msg->status(), 100);
  EXPECT_EQ(none.msg->reason(), "");
  parse_result odd = parse_message(vector_bytes("unreason"), parse_limits{}, true);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd.msg->status(), 200);
  EXPECT_TRUE(odd.msg->reason().starts_with("= 2**3 * 5**2"));
}

}  // namespace
}  // namespace junction::sip
