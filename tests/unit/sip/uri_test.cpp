#include "sip/uri.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

TEST(Uri, SipWithEverything) {
  auto u = parse_uri("sips:alice:secret@[2001:db8::1]:5071;transport=tcp;lr?Subject=hi&X=%20");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, uri_scheme::sips);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->host, "[2001:db8::1]");
  EXPECT_EQ(u->port, 5071);
  EXPECT_EQ(u->params.value("transport"), "tcp");
  EXPECT_TRUE(u->params.has("lr"));
  EXPECT_EQ(u->headers, "Subject=hi&X=%20");
}

TEST(Uri, UserPartsMayHoldSemicolonsAndQuestionMarks) {
  auto u = parse_uri("sip:user;par=u%40example.net@example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "user;par=u%40example.net");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port_or_default(), 5060);
  auto crazy = parse_uri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
  ASSERT_TRUE(crazy);
  EXPECT_EQ(crazy->host, "example.com");
}

TEST(Uri, OtherSchemesAreOpaque) {
  auto u = parse_uri("nobodyKnowsThisScheme:totallyopaquecontent");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, uri_scheme::other);
  EXPECT_EQ(u->opaque, "totallyopaquecontent");
  auto tel = parse_uri("tel:+1-201-555-0123;phone-context=example.com");
  ASSERT_TRUE(tel);
  EXPECT_EQ(tel->scheme, uri_scheme::tel);
  EXPECT_EQ(tel->user, "+1-201-555-0123");
}

TEST(Uri, MalformedOnesAreRefused) {
  for (const char* bad : {"", "<sip:a@b>", "sip:a@b c", "sip:", "sip:@host", "sip:a@", "sip:a@b:0",
                          "sip:a@b:65536", "sip:a@b:x", "sip:a%4@b", "sip:a@b_c", "sip:a@[::1",
                          "1sip:x", "sip:a@b;;", "noscheme"}) {
    EXPECT_FALSE(parse_uri(bad)) << bad;
  }
}

TEST(Uri, EqualityFollowsRfc3261) {
  auto a = parse_uri("sip:%61lice@ATLANTA.com;transport=TCP");
  auto b = parse_uri("sip:alice@AtLanTa.CoM;Transport=tcp");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(uri_equal(*a, *b));
  auto c = parse_uri("sip:alice@atlanta.com:5060");
  auto d = parse_uri("sip:alice@atlanta.com");
  EXPECT_FALSE(uri_equal(*c, *d));  // an explicit port differs from none (§19.1.4)
  auto e = parse_uri("sip:ALICE@atlanta.com");
  EXPECT_FALSE(uri_equal(*e, *d));
  EXPECT_EQ(unescape("null-%00-null"), std::string("null-\0-null", 11));
}

}  // namespace
}  // namespace junction::sip
