#include "sip/route_mark.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

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

// Marks are remembered per thread by Call-ID: what comes from memory is what the HMAC gives,
// after other calls pushed it out and under another secret alike.
TEST(RouteMark, RememberedMarksAreTheComputedOnes) {
  std::vector<std::string> first;
  for (int i = 0; i < 1000; ++i) first.push_back(make_route_mark(secret, "call-" + std::to_string(i)));
  const std::set<std::string> distinct(first.begin(), first.end());
  EXPECT_EQ(distinct.size(), first.size());
  for (int i = 999; i >= 0; --i) {
    const std::string call_id = "call-" + std::to_string(i);
    EXPECT_EQ(make_route_mark(secret, call_id), first[i]);
    EXPECT_TRUE(route_mark_valid(secret, call_id, first[i]));
    EXPECT_NE(make_route_mark(std::string(32, 't'), call_id), first[i]);
    EXPECT_FALSE(route_mark_valid(std::string(32, 't'), call_id, first[i]));
  }
}

}  // namespace
}  // namespace junction::sip
