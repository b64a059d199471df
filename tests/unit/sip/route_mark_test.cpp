#include "sip/route_mark.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

const std::string secret(32, 's');

TEST(RouteMark, VerifiesForTheCallIdItWasMadeFor) {
  auto mark = make_route_mark(secret, "call-1@host");
  EXPECT_EQ(mark.size(), 32u);
  EXPECT_EQ(mark.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(route_mark_valid(secret, "call-1@host", mark));
  EXPECT_EQ(mark, make_route_mark(secret, "call-1@host"));  // the same for every branch
}

TEST(RouteMark, RefusesOtherCallsSecretsAndMalformedMarks) {
  auto mark = make_route_mark(secret, "call-1@host");
  EXPECT_FALSE(route_mark_valid(secret, "call-2@host", mark));
  EXPECT_FALSE(route_mark_valid(std::string(32, 't'), "call-1@host", mark));
  EXPECT_FALSE(route_mark_valid(secret, "call-1@host", ""));
  EXPECT_FALSE(route_mark_valid(secret, "call-1@host", mark.substr(1)));
  EXPECT_FALSE(route_mark_valid(secret, "call-1@host", mark + "0"));
  auto flipped = mark;
  flipped[5] = flipped[5] == '0' ? '1' : '0';
  EXPECT_FALSE(route_mark_valid(secret, "call-1@host", flipped));
}

}  // namespace
}  // namespace junction::sip
