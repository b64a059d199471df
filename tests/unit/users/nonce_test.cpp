#include "users/nonce.hpp"

#include <gtest/gtest.h>

namespace junction::users {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;

constexpr std::string_view secret = "0123456789abcdef0123456789abcdef";
constexpr sys_seconds t0{1'700'000'000s};

TEST(Nonce, FreshNonceChecks) {
  std::string n = make_nonce(secret, "example.com", t0);
  EXPECT_EQ(n.size(), 32u);
  EXPECT_EQ(n.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(check_nonce(secret, "example.com", n, t0, 300s), nonce_status::ok);
  EXPECT_EQ(check_nonce(secret, "example.com", n, t0 + 300s, 300s), nonce_status::ok);
}

TEST(Nonce, DeterministicForSameInputs) {
  EXPECT_EQ(make_nonce(secret, "example.com", t0), make_nonce(secret, "example.com", t0));
  EXPECT_NE(make_nonce(secret, "example.com", t0), make_nonce(secret, "example.com", t0 + 1s));
}

TEST(Nonce, ExpiredNonceIsStale) {
  std::string n = make_nonce(secret, "example.com", t0);
  EXPECT_EQ(check_nonce(secret, "example.com", n, t0 + 301s, 300s), nonce_status::stale);
  EXPECT_EQ(check_nonce(secret, "example.com", n, t0 + 1'000'000s, 300s), nonce_status::stale);
}

TEST(Nonce, FutureNonceToleratesClockSkewOnly) {
  std::string n = make_nonce(secret, "example.com", t0 + nonce_clock_skew);
  EXPECT_EQ(check_nonce(secret, "example.com", n, t0, 300s), nonce_status::ok);
  n = make_nonce(secret, "example.com", t0 + nonce_clock_skew + 1s);
  EXPECT_EQ(check_nonce(secret, "example.com", n, t0, 300s), nonce_status::stale);
}

TEST(Nonce, WrongSecretOrRealmIsBad) {
  std::string n = make_nonce(secret, "example.com", t0);
  EXPECT_EQ(check_nonce("another secret", "example.com", n, t0, 300s), nonce_status::bad);
  EXPECT_EQ(check_nonce(secret, "example.org", n, t0, 300s), nonce_status::bad);
  EXPECT_EQ(check_nonce(secret, "", n, t0, 300s), nonce_status::bad);
}

TEST(Nonce, TamperedNonceIsBad) {
  const std::string n = make_nonce(secret, "example.com", t0);
  // Every single-character change, in the timestamp (making an old nonce look fresh) or in the
  // MAC, breaks the MAC: each character carries six bits and no padding is left over.
  for (std::size_t i = 0; i < n.size(); ++i) {
    std::string t = n;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(check_nonce(secret, "example.com", t, t0, 300s), nonce_status::bad) << i;
  }
}

TEST(Nonce, MalformedNonceIsBad) {
  const std::string n = make_nonce(secret, "example.com", t0);
  EXPECT_EQ(check_nonce(secret, "example.com", "", t0, 300s), nonce_status::bad);
  EXPECT_EQ(check_nonce(secret, "example.com", n.substr(1), t0, 300s), nonce_status::bad);
  EXPECT_EQ(check_nonce(secret, "example.com", n + "A", t0, 300s), nonce_status::bad);
  std::string plus = n;
  plus[5] = '+';  // standard base64, not base64url
  EXPECT_EQ(check_nonce(secret, "example.com", plus, t0, 300s), nonce_status::bad);
  EXPECT_EQ(check_nonce(secret, "example.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093", t0, 300s),
            nonce_status::bad);
}

TEST(Nonce, GeneratedSecretsDiffer) {
  std::string a = make_nonce_secret();
  std::string b = make_nonce_secret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(check_nonce(a, "r", make_nonce(a, "r", t0), t0, 60s), nonce_status::ok);
  EXPECT_EQ(check_nonce(b, "r", make_nonce(a, "r", t0), t0, 60s), nonce_status::bad);
}

}  // namespace
}  // namespace junction::users
