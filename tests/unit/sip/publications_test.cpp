#include "sip/publications.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

using namespace std::chrono_literals;
const sip_clock::time_point t0{std::chrono::hours(1000)};
constexpr std::string_view alice = "sip:alice@example.com";

publication_store store() { return publication_store({60, 3600, 3600, 2}, 42); }

publish_request initial(std::string_view body, std::optional<std::uint32_t> expires = std::nullopt) {
  return {.aor = alice, .if_match = std::nullopt, .expires = expires, .body = body};
}

TEST(Publications, InitialRefreshModifyRemove) {
  auto s = store();
  auto created = s.apply(initial("<one/>", 600), t0);
  ASSERT_EQ(created.status, 200);
  EXPECT_EQ(created.expires, 600u);
  EXPECT_TRUE(created.changed);
  EXPECT_EQ(s.current(alice, t0), "<one/>");

  // A refresh: no body, the entity-tag; a new tag, the same state (RFC 3903 §4.2).
  auto refreshed = s.apply({.aor = alice, .if_match = created.etag, .expires = 600, .body = {}}, t0 + 500s);
  ASSERT_EQ(refreshed.status, 200);
  EXPECT_NE(refreshed.etag, created.etag);
  EXPECT_FALSE(refreshed.changed);
  EXPECT_EQ(s.current(alice, t0 + 1000s), "<one/>");  // alive past the first expiry

  // The old tag is spent.
  EXPECT_EQ(s.apply({.aor = alice, .if_match = created.etag, .expires = 600, .body = {}}, t0 + 501s).status, 412);

  auto modified = s.apply({.aor = alice, .if_match = refreshed.etag, .expires = {}, .body = "<two/>"}, t0 + 502s);
  ASSERT_EQ(modified.status, 200);
  EXPECT_TRUE(modified.changed);
  EXPECT_EQ(modified.expires, 3600u);  // the default when Expires is absent
  EXPECT_EQ(s.current(alice, t0 + 503s), "<two/>");

  auto removed = s.apply({.aor = alice, .if_match = modified.etag, .expires = 0, .body = {}}, t0 + 504s);
  EXPECT_EQ(removed.status, 200);
  EXPECT_EQ(removed.expires, 0u);
  EXPECT_TRUE(removed.changed);
  EXPECT_FALSE(s.current(alice, t0 + 505s));
  EXPECT_EQ(s.count(), 0u);
}

TEST(Publications, TheNewestStateOfSeveralDevicesWins) {
  auto s = store();
  auto phone = s.apply(initial("<phone/>"), t0);
  s.apply(initial("<desk/>"), t0 + 1s);
  EXPECT_EQ(s.current(alice, t0 + 2s), "<desk/>");
  s.apply({.aor = alice, .if_match = phone.etag, .expires = {}, .body = "<phone2/>"}, t0 + 3s);
  EXPECT_EQ(s.current(alice, t0 + 4s), "<phone2/>");
  // A third device is over this store's limit of two.
  EXPECT_EQ(s.apply(initial("<tablet/>"), t0 + 5s).status, 403);
}

TEST(Publications, BadRequestsAndExpiry) {
  auto s = store();
  EXPECT_EQ(s.apply(initial(""), t0).status, 400);         // initial without state
  EXPECT_EQ(s.apply(initial("<x/>", 0), t0).status, 400);  // initial that removes nothing
  auto brief = s.apply(initial("<x/>", 10), t0);
  EXPECT_EQ(brief.status, 423);
  EXPECT_EQ(brief.min_expires, 60u);
  EXPECT_EQ(s.apply(initial("<x/>", 99999), t0).expires, 3600u);  // cut to the maximum
  EXPECT_EQ(s.apply({.aor = alice, .if_match = "nope", .expires = {}, .body = {}}, t0).status, 412);

  EXPECT_TRUE(s.purge(t0 + 3599s).empty());
  EXPECT_EQ(s.purge(t0 + 3600s), std::vector<std::string>{std::string(alice)});
  EXPECT_FALSE(s.current(alice, t0 + 3600s));
  EXPECT_EQ(s.count(), 0u);
}

}  // namespace
}  // namespace junction::sip
