#include "users/hmac.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace junction::users {
namespace {

std::string hex(const sha256_mac& mac) {
  std::string out;
  for (unsigned char c : mac) {
    out += "0123456789abcdef"[c >> 4];
    out += "0123456789abcdef"[c & 15];
  }
  return out;
}

std::string mac_of(std::string_view key, std::initializer_list<std::string_view> parts) {
  sha256_mac mac{};
  EXPECT_TRUE(hmac_sha256(key, parts, mac));
  return hex(mac);
}

// RFC 4231 §4.2 and §4.3 (test cases 1 and 2).
const std::string key1(20, '\x0b');
constexpr std::string_view data1 = "Hi There";
constexpr std::string_view mac1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
constexpr std::string_view key2 = "Jefe";
constexpr std::string_view mac2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

TEST(Hmac, Rfc4231Vectors) {
  EXPECT_EQ(mac_of(key1, {data1}), mac1);
  EXPECT_EQ(mac_of(key2, {"what do ya want ", "for nothing?"}), mac2);  // fed in parts
}

// The keyed contexts are kept per thread and key: every answer must be the key's own, whatever
// came before, with keys alternating and more keys than are kept.
TEST(Hmac, KeysAlternateAndOutnumberTheCache) {
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(mac_of(key1, {data1}), mac1);
    EXPECT_EQ(mac_of(key2, {"what do ya want for nothing?"}), mac2);
    for (int k = 0; k < 6; ++k) mac_of("other key " + std::to_string(k), {data1});
    EXPECT_EQ(mac_of(key2, {"what do ya want for nothing?"}), mac2);
    EXPECT_EQ(mac_of(key1, {data1}), mac1);
  }
  EXPECT_EQ(mac_of("", {""}), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");  // empty key
}

TEST(Hmac, EachThreadHasItsOwnContexts) {
  std::string there;
  std::thread t([&] { there = mac_of(key1, {data1}); });
  EXPECT_EQ(mac_of(key1, {data1}), mac1);
  t.join();
  EXPECT_EQ(there, mac1);
}

}  // namespace
}  // namespace junction::users
