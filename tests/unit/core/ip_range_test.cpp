#include "core/ip_range.hpp"

#include <gtest/gtest.h>

namespace junction {
namespace {

boost::asio::ip::address addr(const char* s) { return boost::asio::ip::make_address(s); }

TEST(ip_range, matches_by_prefix) {
  auto loopback = ip_range::parse("127.0.0.0/8");
  ASSERT_TRUE(loopback);
  EXPECT_TRUE(loopback->contains(addr("127.1.2.3")));
  EXPECT_FALSE(loopback->contains(addr("128.0.0.1")));
  EXPECT_TRUE(loopback->contains(addr("::ffff:127.0.0.1"))) << "v4-mapped peers match v4 ranges";
  EXPECT_FALSE(loopback->contains(addr("::1")));
  auto odd = ip_range::parse("10.0.0.0/9");
  EXPECT_TRUE(odd->contains(addr("10.127.255.255")));
  EXPECT_FALSE(odd->contains(addr("10.128.0.0")));
  auto one = ip_range::parse("192.168.1.5");
  EXPECT_TRUE(one->contains(addr("192.168.1.5")));
  EXPECT_FALSE(one->contains(addr("192.168.1.6")));
  auto v6 = ip_range::parse("2001:db8::/32");
  EXPECT_TRUE(v6->contains(addr("2001:db8:1::1")));
  EXPECT_FALSE(v6->contains(addr("2001:db9::1")));
  auto any = ip_range::parse("0.0.0.0/0");
  EXPECT_TRUE(any->contains(addr("8.8.8.8")));
}

TEST(ip_range, rejects_malformed_ranges) {
  for (const char* bad : {"", "127.0.0.1/33", "::1/129", "1.2.3.4/", "1.2.3.4/x", "host/8", "1.2.3/8"})
    EXPECT_FALSE(ip_range::parse(bad)) << bad;
}

TEST(ip_range, an_empty_list_allows_everyone) {
  EXPECT_TRUE(allowed({}, addr("1.2.3.4")));
  std::vector<ip_range> only{*ip_range::parse("127.0.0.1")};
  EXPECT_TRUE(allowed(only, addr("127.0.0.1")));
  EXPECT_FALSE(allowed(only, addr("127.0.0.2")));
}

}  // namespace
}  // namespace junction
