#include "core/endpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace junction {
namespace {

TEST(listen_address, parses_ipv4_and_ipv6) {
  auto a = listen_address::parse("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = listen_address::parse("[::1]:5060");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->to_string(), "[::1]:5060");
  EXPECT_EQ(listen_address::parse("0.0.0.0:0")->port, 0);
}

TEST(listen_address, rejects_with_a_reason) {
  std::string why;
  for (auto bad : {"8080", "localhost:8080", "127.0.0.1:", "127.0.0.1:65536", "::1:80",
                   "[::1]80", "1.2.3.4:-1", "127.0.0.1:80x"}) {
    why.clear();
    EXPECT_FALSE(listen_address::parse(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(listen_address, resolves_a_host_name_and_keeps_numeric_ones) {
  // Issue 16: "localhost:8080" was refused. /etc/hosts names localhost on every Debian machine.
  auto local = listen_address::resolve("localhost:8080");
  ASSERT_FALSE(local.empty());
  EXPECT_TRUE(std::any_of(local.begin(), local.end(), [](const listen_address& a) {
    return a == listen_address{"127.0.0.1", 8080} || a == listen_address{"::1", 8080};
  }));
  for (const auto& a : local) EXPECT_EQ(a.port, 8080);
  const std::vector<listen_address> numeric{listen_address{"::1", 5060}};
  EXPECT_EQ(listen_address::resolve("[::1]:5060"), numeric);
  std::string why;
  EXPECT_TRUE(listen_address::resolve("no-such-host.invalid:80", &why).empty());
  EXPECT_NE(why.find("no-such-host.invalid"), std::string::npos) << why;
  for (auto bad : {"localhost:65536", "localhost", "::1:80", "127.0.0.1:80x"}) {
    why.clear();
    EXPECT_TRUE(listen_address::resolve(bad, &why).empty()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

}  // namespace
}  // namespace junction
