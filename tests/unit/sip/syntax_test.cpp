#include "sip/syntax.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

TEST(Syntax, TokensAndTrim) {
  EXPECT_TRUE(is_token("!interesting-Method0123456789_*+`.%indeed'~"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("a b"));
  EXPECT_FALSE(is_token("a,b"));
  EXPECT_EQ(trim(" \t x y \t"), "x y");
  EXPECT_TRUE(iequals("Call-ID", "call-id"));
  EXPECT_FALSE(iequals("Call-ID", "call-i"));
}

TEST(Syntax, DecimalsHaveLimits) {
  EXPECT_EQ(parse_decimal("0068", 255), 68u);
  EXPECT_EQ(parse_decimal("255", 255), 255u);
  EXPECT_FALSE(parse_decimal("256", 255));
  EXPECT_FALSE(parse_decimal("-1", 255));
  EXPECT_FALSE(parse_decimal("", 255));
  EXPECT_FALSE(parse_decimal("36893488147419103232", UINT64_MAX));  // overflows 64 bits
}

TEST(Syntax, QuotedStrings) {
  EXPECT_EQ(quoted_string_length(R"("a\"b" rest)"), 6u);
  EXPECT_EQ(quoted_string_length(R"("" x)"), 2u);
  EXPECT_FALSE(quoted_string_length(R"("never closes)"));
  EXPECT_FALSE(quoted_string_length(R"("ends in escape\)"));
  EXPECT_FALSE(quoted_string_length("x"));
}

TEST(Syntax, ListsSplitOnlyAtTopLevelCommas) {
  list_items items;
  ASSERT_TRUE(split_list(R"("a, b" <sip:x@y;p=1,2>;q=1 , <sip:z@w>)", items, 8));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0], R"("a, b" <sip:x@y;p=1,2>;q=1)");
  EXPECT_EQ(items[1], "<sip:z@w>");
  items.clear();
  EXPECT_FALSE(split_list(R"("open, a)", items, 8));
  items.clear();
  EXPECT_FALSE(split_list("<sip:a@b", items, 8));
  items.clear();
  EXPECT_FALSE(split_list("a,b,c", items, 2));  // over the item limit
}

TEST(Syntax, ParamsAllowWhitespaceAroundSeparators) {
  param_list p;
  ASSERT_TRUE(parse_params(" ;   tag    = 1918181833n ; lr;q=0.5;x=\"a b\";h=[::1]", p, 8));
  EXPECT_EQ(p.value("TAG"), "1918181833n");
  EXPECT_TRUE(p.has("lr"));
  EXPECT_FALSE(p.find("lr")->has_value);
  EXPECT_EQ(p.value("q"), "0.5");
  EXPECT_EQ(p.value("x"), "\"a b\"");
  EXPECT_EQ(p.value("h"), "[::1]");
}

TEST(Syntax, MalformedParamsAreRefused) {
  for (const char* bad : {";;", ";", ";a=", ";a=\"x", "x", ";a=b c", ";,"}) {
    param_list p;
    EXPECT_FALSE(parse_params(bad, p, 8)) << bad;
  }
  param_list many;
  EXPECT_FALSE(parse_params(";a;b;c", many, 2));
}

}  // namespace
}  // namespace junction::sip
