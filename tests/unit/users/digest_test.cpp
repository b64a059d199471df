#include "users/digest.hpp"

#include <gtest/gtest.h>

namespace junction::users {
namespace {

// RFC 2617 §3.5 (MD5, qop=auth), the example RFC 3261 §22.4 defers to.
TEST(Digest, Rfc2617Md5Vector) {
  std::string h = ha1(digest_algorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(h, "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(response(digest_algorithm::md5, h, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
                     "0a4f113b", digest_qop::auth, "GET", "/dir/index.html"),
            "6629fae49393a05397450978507c4ef1");
}

// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
TEST(Digest, Rfc7616Vectors) {
  constexpr std::string_view nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  constexpr std::string_view cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  std::string md5 = ha1(digest_algorithm::md5, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(response(digest_algorithm::md5, md5, nonce, "00000001", cnonce, digest_qop::auth, "GET",
                     "/dir/index.html"),
            "8ca523f5e9506fed4657c9700eebdbec");
  std::string sha =
      ha1(digest_algorithm::sha256, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(response(digest_algorithm::sha256, sha, nonce, "00000001", cnonce, digest_qop::auth,
                     "GET", "/dir/index.html"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// RFC 2069 §2.4's example, with the response corrected by its erratum (the published
// e966c932... is wrong): no qop, so nc and cnonce take no part.
TEST(Digest, Rfc2069WithoutQop) {
  std::string h = ha1(digest_algorithm::md5, "Mufasa", "testrealm@host.com", "CircleOfLife");
  EXPECT_EQ(response(digest_algorithm::md5, h, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "ignored",
                     "ignored", digest_qop::none, "GET", "/dir/index.html"),
            "1949323746fe6a43ef61f9606e7febea");
}

TEST(Digest, SipRegisterDiffersByMethodAndUri) {
  std::string h = ha1(digest_algorithm::sha256, "alice", "example.com", "secret");
  std::string reg = response(digest_algorithm::sha256, h, "n", "00000001", "c", digest_qop::auth,
                             "REGISTER", "sip:example.com");
  EXPECT_NE(reg, response(digest_algorithm::sha256, h, "n", "00000001", "c", digest_qop::auth,
                          "INVITE", "sip:example.com"));
  EXPECT_NE(reg, response(digest_algorithm::sha256, h, "n", "00000002", "c", digest_qop::auth,
                          "REGISTER", "sip:example.com"));
}

TEST(Digest, AlgorithmNames) {
  EXPECT_EQ(algorithm_name(digest_algorithm::md5), "MD5");
  EXPECT_EQ(algorithm_name(digest_algorithm::sha256), "SHA-256");
  EXPECT_EQ(parse_algorithm(""), digest_algorithm::md5);  // absent means MD5
  EXPECT_EQ(parse_algorithm("md5"), digest_algorithm::md5);
  EXPECT_EQ(parse_algorithm("sha-256"), digest_algorithm::sha256);
  EXPECT_FALSE(parse_algorithm("MD5-sess"));
  EXPECT_FALSE(parse_algorithm("SHA-512-256"));
  EXPECT_FALSE(parse_algorithm("SHA256"));
}

TEST(Digest, Qop) {
  EXPECT_EQ(parse_qop(""), digest_qop::none);
  EXPECT_EQ(parse_qop("auth"), digest_qop::auth);
  EXPECT_FALSE(parse_qop("auth-int"));
  EXPECT_FALSE(parse_qop("auth,auth-int"));
}

TEST(Digest, HexEqualConstantTime) {
  EXPECT_TRUE(hex_equal_constant_time("6629fae49393a053", "6629fae49393a053"));
  EXPECT_TRUE(hex_equal_constant_time("6629fae49393a053", "6629FAE49393A053"));
  EXPECT_FALSE(hex_equal_constant_time("6629fae49393a053", "6629fae49393a054"));
  EXPECT_FALSE(hex_equal_constant_time("6629fae49393a053", "6629fae49393a05"));
  EXPECT_FALSE(hex_equal_constant_time("", ""));
  // '@' | 0x20 is '`'; neither is hex, and neither may pass for another character.
  EXPECT_FALSE(hex_equal_constant_time("a`", "a@"));
  EXPECT_FALSE(hex_equal_constant_time("ab", "aB "));
}

}  // namespace
}  // namespace junction::users
