#include "sip/address.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

TEST(Address, NameAddrAndAddrSpec) {
  auto a = parse_address(R"("J Rosenberg \\\""   <sip:jdrosen@example.com> ; tag = 98asjd8)");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->bracketed);
  EXPECT_EQ(a->uri_text, "sip:jdrosen@example.com");
  EXPECT_EQ(a->tag(), "98asjd8");

  auto tokens = parse_address("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;p");
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->display, "token1~` token2'+_ token3*%!.-");

  auto tight = parse_address("caller<sip:caller@example.com>;tag=323");
  ASSERT_TRUE(tight);
  EXPECT_EQ(tight->display, "caller");

  auto spec = parse_address("sip:watson@example.com;tag=DkfV");
  ASSERT_TRUE(spec);
  EXPECT_FALSE(spec->bracketed);
  EXPECT_EQ(spec->uri_text, "sip:watson@example.com");
  EXPECT_EQ(spec->tag(), "DkfV");

  auto other = parse_address("<name:John_Smith>");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->uri_text, "name:John_Smith");
}

TEST(Address, StarOnlyWhereAllowed) {
  auto star = parse_address("*", true);
  ASSERT_TRUE(star);
  EXPECT_TRUE(star->star);
  EXPECT_FALSE(parse_address("*", false));
}

TEST(Address, MalformedOnesAreRefused) {
  for (const char* bad : {
           R"("Mr. J. User <sip:j.user@example.com>)",        // RFC 4475 §3.1.2.6
           "Watson, Thomas <sip:t.watson@example.org>",        // §3.1.2.15
           R"("Watson, Thomas" < sip:t.watson@example.org >)",  // §3.1.2.14
           "sip:user@example.com?Route=%3Csip:sip.example.com%3E",  // §3.1.2.13
           R"("Joe" <sip:joe@example.org>;;;;)",                // §3.1.2.1
           "<sip:a@b", "", "  ", "<>", R"("x" sip:a@b)"}) {
    EXPECT_FALSE(parse_address(bad)) << bad;
  }
}

}  // namespace
}  // namespace junction::sip
