#include "http/static_path.hpp"

#include <gtest/gtest.h>

namespace junction::http {
namespace {
using verdict = static_path::verdict;

TEST(static_path, resolves_ordinary_paths) {
  auto p = resolve_static_path("/css/site.css?v=3");
  EXPECT_EQ(p.outcome, verdict::ok);
  EXPECT_EQ(p.relative, "css/site.css");
  EXPECT_FALSE(p.trailing_slash);
  auto root = resolve_static_path("/");
  EXPECT_EQ(root.relative, "");
  EXPECT_TRUE(root.trailing_slash);
  auto dir = resolve_static_path("/docs/");
  EXPECT_EQ(dir.relative, "docs");
  EXPECT_TRUE(dir.trailing_slash);
  EXPECT_EQ(resolve_static_path("/a%20b.txt").relative, "a b.txt");
  EXPECT_EQ(resolve_static_path("/a//./b").relative, "a/b");
}

// Every way out of the web root that a request could try.
TEST(static_path, refuses_traversal) {
  const char* attempts[] = {
      "/../etc/passwd",         "/a/../../etc/passwd",   "/%2e%2e/etc/passwd",
      "/%2E%2E/etc/passwd",     "/a/%2e%2e/%2e%2e/x",    "/..",
      "/a/%2F..%2F..%2Fetc",    "/..%2Fetc/passwd",      "/..%5c..%5cetc/passwd",
      "/a%00.txt",              "/%00",                  "/a/..%2f",
  };
  for (auto target : attempts) {
    auto p = resolve_static_path(target);
    EXPECT_NE(p.outcome, verdict::ok) << target << " resolved to " << p.relative;
    EXPECT_TRUE(p.relative.empty()) << target;
    EXPECT_FALSE(p.reason.empty()) << target;
  }
}

TEST(static_path, refuses_malformed_targets) {
  for (auto target : {"", "relative", "/bad%zz", "/bad%", "http://example.com/x"})
    EXPECT_EQ(resolve_static_path(target).outcome, verdict::bad_request) << target;
}

}  // namespace
}  // namespace junction::http
