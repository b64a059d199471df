#include "sip/via.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

TEST(Via, PlainAndSpacedOut) {
  auto v = parse_via("SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK776;rport;received=10.0.0.1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->transport, "UDP");
  EXPECT_EQ(v->host, "192.0.2.1");
  EXPECT_EQ(v->port, 5062);
  EXPECT_TRUE(v->has_cookie());
  EXPECT_TRUE(v->params.has("rport"));
  EXPECT_EQ(v->params.value("received"), "10.0.0.1");

  auto spaced = parse_via("SIP  /   2.0    /UDP     192.0.2.2;branch=390skdjuw");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->host, "192.0.2.2");
  EXPECT_FALSE(spaced->has_cookie());

  auto v6 = parse_via("SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKx");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[2001:db8::9]");
  EXPECT_EQ(v6->port, 5060);
}

TEST(Via, MalformedOnesAreRefused) {
  for (const char* bad : {"SIP/2.0/UDP 192.0.2.15;;", "SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/3.0/UDP h",
                          "HTTP/2.0/UDP h", "SIP/2.0/UDP h:0", "SIP/2.0/UDP h:99999", "SIP/2.0UDP h",
                          "SIP/2.0/UDP [::1"}) {
    EXPECT_FALSE(parse_via(bad)) << bad;
  }
}

}  // namespace
}  // namespace junction::sip

namespace junction::sip {
namespace {

TEST(Via, StampedWithWhereTheRequestCameFrom) {
  auto asked = parse_via("SIP/2.0/UDP 10.0.0.5:5062;rport;branch=z9hG4bKx");
  ASSERT_TRUE(asked);
  EXPECT_EQ(stamp_via(*asked, "192.0.2.7", 40000),
            "SIP/2.0/UDP 10.0.0.5:5062;rport=40000;branch=z9hG4bKx;received=192.0.2.7");
  auto same_host = parse_via("SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKy");
  EXPECT_EQ(stamp_via(*same_host, "192.0.2.7", 5060), "SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKy");
  auto named = parse_via("SIP/2.0/TCP pc.example.com;branch=z9hG4bKz;received=1.1.1.1");
  EXPECT_EQ(stamp_via(*named, "192.0.2.7", 5060),
            "SIP/2.0/TCP pc.example.com;branch=z9hG4bKz;received=192.0.2.7");
}

}  // namespace
}  // namespace junction::sip
