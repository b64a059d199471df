#include "xmpp/jid.hpp"

#include <gtest/gtest.h>

namespace junction::xmpp {
namespace {

TEST(Jid, PartsAndSpellings) {
  auto j = jid::parse("Alice@Example.COM/Phone 1");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->local(), "alice");
  EXPECT_EQ(j->domain(), "example.com");
  EXPECT_EQ(j->resource(), "Phone 1");
  EXPECT_EQ(j->str(), "alice@example.com/Phone 1");
  EXPECT_EQ(j->bare_str(), "alice@example.com");
  EXPECT_TRUE(j->bare().is_bare());
  auto d = jid::parse("example.com.");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->str(), "example.com");
  EXPECT_TRUE(d->local().empty());
  // The resource may hold '@' and '/'.
  auto r = jid::parse("a@b/c@d/e");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->resource(), "c@d/e");
  EXPECT_EQ(*jid::parse("A@B"), *jid::parse("a@b"));
}

TEST(Jid, InvalidAddressesAreRefused) {
  for (const char* bad : {"", "@example.com", "a@", "a@b/", "/r", "a b@c", "a\"@c", "a@b c", "a\x01@b", "a@\xff\xfe",
                          "a:b@c", "a<b@c"})
    EXPECT_FALSE(jid::parse(bad)) << bad;
  EXPECT_FALSE(jid::parse(std::string(1024, 'a') + "@b"));
  EXPECT_TRUE(jid::parse(std::string(1023, 'a') + "@b"));
}

}  // namespace
}  // namespace junction::xmpp

namespace junction::xmpp {
TEST(Blocklist, MatchesFullBareDomainAndDomainResourceItems) {
  const std::set<std::string> list{"bob@example.com", "carol@example.com/phone", "evil.example", "example.org/bot"};
  auto blocked = [&](const char* who) { return is_blocked(list, *jid::parse(who)); };
  EXPECT_TRUE(blocked("bob@example.com"));
  EXPECT_TRUE(blocked("bob@example.com/any"));
  EXPECT_TRUE(blocked("carol@example.com/phone"));
  EXPECT_FALSE(blocked("carol@example.com/desk"));
  EXPECT_FALSE(blocked("carol@example.com"));
  EXPECT_TRUE(blocked("anyone@evil.example/x"));
  EXPECT_TRUE(blocked("evil.example"));
  EXPECT_TRUE(blocked("example.org/bot"));
  EXPECT_FALSE(blocked("someone@example.org/bot"));
  EXPECT_FALSE(blocked("alice@example.com"));
  EXPECT_FALSE(is_blocked({}, *jid::parse("bob@example.com")));
}
}  // namespace junction::xmpp
