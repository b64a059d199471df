#include "users/credentials.hpp"

#include <gtest/gtest.h>

#include <string>

#include "users/nonce.hpp"

namespace junction::users {
namespace {

// RFC 7616 §3.9.1, the SHA-256 Authorization header (folded onto one line).
constexpr std::string_view rfc7616_sha256 =
    R"(Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", )"
    R"(algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, )"
    R"(cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, )"
    R"(response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", )"
    R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")";

TEST(Credentials, Rfc7616ExampleParsesAndVerifies) {
  credentials_result r = parse_credentials(rfc7616_sha256);
  ASSERT_TRUE(r.ok()) << r.error.message();
  const digest_credentials& c = r.credentials;
  EXPECT_EQ(c.username, "Mufasa");
  EXPECT_EQ(c.realm, "http-auth@example.org");
  EXPECT_EQ(c.uri, "/dir/index.html");
  EXPECT_EQ(c.algorithm, "SHA-256");
  EXPECT_EQ(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
  EXPECT_EQ(c.nc, "00000001");
  EXPECT_EQ(c.cnonce, "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
  EXPECT_EQ(c.qop, "auth");
  EXPECT_EQ(c.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");

  // What a verifier does with it.
  auto alg = parse_algorithm(c.algorithm);
  auto qop = parse_qop(c.qop);
  ASSERT_TRUE(alg && qop);
  std::string expected = response(*alg, ha1(*alg, c.username, c.realm, "Circle of Life"), c.nonce,
                                  c.nc, c.cnonce, *qop, "GET", c.uri);
  EXPECT_TRUE(hex_equal_constant_time(expected, c.response));
}

// RFC 3261 §20.7's Authorization example: a SIP URI as the digest-uri.
TEST(Credentials, SipExample) {
  credentials_result r = parse_credentials(
      R"(Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",)"
      R"( uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b",)"
      R"( response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41")");
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.credentials.uri, "sip:bob@biloxi.com");
  EXPECT_EQ(r.credentials.algorithm, "");  // absent: MD5
  EXPECT_EQ(parse_algorithm(r.credentials.algorithm), digest_algorithm::md5);
}

TEST(Credentials, LenientWhereClientsDiffer) {
  // Scheme and names in any case, tabs, quoted qop/algorithm/nc, empty list elements,
  // escaped characters, unknown parameters and no qop at all (RFC 2069).
  credentials_result r = parse_credentials(
      "\tdigest  USERNAME = \"a\\\"b\" ,, Realm=r,nonce=n\t,uri=\"sip:x\",response=\"00\","
      "algorithm=\"md5\",qop=\"auth\",NC=\"0000000a\",cnonce=c,userhash=false,  ");
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.credentials.username, "a\"b");
  EXPECT_EQ(r.credentials.realm, "r");
  EXPECT_EQ(r.credentials.algorithm, "md5");
  EXPECT_EQ(r.credentials.qop, "auth");
  EXPECT_EQ(r.credentials.nc, "0000000a");

  r = parse_credentials(R"(Digest username="u", realm="r", nonce="n", uri="/", response="00")");
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_TRUE(r.credentials.qop.empty());
  EXPECT_EQ(parse_qop(r.credentials.qop), digest_qop::none);
}

TEST(Credentials, OtherSchemesAreReportedAsSuch) {
  EXPECT_EQ(parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").error,
            credentials_errc::not_digest);
  EXPECT_EQ(parse_credentials("Bearer abc").error, credentials_errc::not_digest);
  EXPECT_EQ(parse_credentials("DigestX username=\"u\"").error, credentials_errc::not_digest);
}

struct bad_case {
  const char* name;
  std::string value;
  credentials_errc error;
};

constexpr std::string_view required = R"(realm="r", nonce="n", uri="/", response="00")";

std::string with(std::string_view params) {
  return "Digest " + std::string(params) + ", " + std::string(required);
}

std::string many_params(int n) {
  std::string v = "Digest username=\"u\", " + std::string(required);
  for (int i = 0; i < n; ++i) v += ", x" + std::to_string(i) + "=1";
  return v;
}

TEST(Credentials, MalformedValuesAreRefused) {
  const bad_case cases[] = {
      {"empty", "", credentials_errc::empty},
      {"only whitespace", " \t ", credentials_errc::empty},
      {"scheme only", "Digest", credentials_errc::missing_param},
      {"scheme and spaces", "Digest   ", credentials_errc::missing_param},
      // An unclosed quote in the middle swallows what follows, up to the next quote, and the
      // junk after that is what gets reported; at the end it is reported as unclosed.
      {"quote swallowing", with(R"(username="Mufasa)"), credentials_errc::malformed},
      {"unclosed quote", std::string("Digest ") + std::string(required) + R"(, username="Mufasa)",
       credentials_errc::unclosed_quote},
      {"unclosed at end", R"(Digest username="u", realm="r)", credentials_errc::unclosed_quote},
      {"escape at end", R"(Digest username="u\)", credentials_errc::unclosed_quote},
      {"duplicate", with(R"(username="a", username="b")"), credentials_errc::duplicate_param},
      {"duplicate other case", with(R"(username="a", UserName="a")"),
       credentials_errc::duplicate_param},
      {"duplicate unknown", with(R"(username="a", x=1, X=2)"), credentials_errc::duplicate_param},
      {"too many params", many_params(28), credentials_errc::too_many_params},
      {"value too long", with("username=\"" + std::string(1025, 'a') + "\""),
       credentials_errc::value_too_long},
      {"token too long", with("username=" + std::string(1025, 'a')),
       credentials_errc::value_too_long},
      {"no equals", with("username"), credentials_errc::malformed},
      {"no value", with("username="), credentials_errc::malformed},
      {"token68", "Digest dXNlcjpwYXNz==", credentials_errc::malformed},
      {"junk after value", with(R"(username="a" b)"), credentials_errc::malformed},
      {"no space after scheme", R"(Digest,username="u")", credentials_errc::malformed},
      {"not a token", R"("Digest" username="u")", credentials_errc::malformed},
      {"control character", with("username=\"a\r\nb\""), credentials_errc::malformed},
      {"NUL in quotes", with(std::string("username=\"a\0b\"", 14)), credentials_errc::malformed},
      {"missing username", std::string("Digest ") + std::string(required),
       credentials_errc::missing_param},
      {"qop without cnonce", with(R"(username="u", qop=auth, nc=00000001)"),
       credentials_errc::missing_param},
      {"qop without nc", with(R"(username="u", qop=auth, cnonce="c")"),
       credentials_errc::missing_param},
      {"short nc", with(R"(username="u", qop=auth, cnonce="c", nc=1)"),
       credentials_errc::bad_nonce_count},
      {"non-hex nc", with(R"(username="u", qop=auth, cnonce="c", nc=0000000g)"),
       credentials_errc::bad_nonce_count},
  };
  for (const bad_case& c : cases) {
    credentials_result r = parse_credentials(c.value);
    EXPECT_EQ(r.error, c.error) << c.name << ": " << r.error.message();
    EXPECT_FALSE(r.ok()) << c.name;
    EXPECT_TRUE(r.credentials.username.empty()) << c.name;  // nothing half-parsed leaks out
  }
}

TEST(Credentials, LimitsAreExact) {
  // 32 parameters in all (5 required + 27 others) pass; the 33rd is refused.
  EXPECT_TRUE(parse_credentials(many_params(27)).ok());
  EXPECT_EQ(parse_credentials(many_params(28)).error, credentials_errc::too_many_params);
  // 1024 bytes after unquoting pass, even with escapes making the quoted form longer.
  std::string escaped;
  for (int i = 0; i < 512; ++i) escaped += "\\\"a";
  EXPECT_TRUE(parse_credentials(with("username=\"" + escaped + "\"")).ok());
  // Names count against max_value too: "username" and "response" need 8.
  credentials_limits tight{.max_params = 6, .max_value = 8};
  EXPECT_TRUE(parse_credentials(with("username=abcdefgh"), tight).ok());
  EXPECT_EQ(parse_credentials(with("username=abcdefghi"), tight).error,
            credentials_errc::value_too_long);
  EXPECT_EQ(parse_credentials(with("username=\"abcdefghi\""), tight).error,
            credentials_errc::value_too_long);
  EXPECT_EQ(parse_credentials(with("username=a, longername=1"), tight).error,
            credentials_errc::value_too_long);
  EXPECT_EQ(parse_credentials(with("username=a, x=1, y=2"), tight).error,
            credentials_errc::too_many_params);
}

TEST(Credentials, ErrorsHaveACategoryAndMessages) {
  std::error_code ec = credentials_errc::duplicate_param;
  EXPECT_STREQ(ec.category().name(), "users.credentials");
  EXPECT_NE(ec.message().find("twice"), std::string::npos);
}

TEST(Challenge, Sha256WithQop) {
  EXPECT_EQ(make_challenge({.realm = "example.com", .nonce = "abc"}),
            R"(Digest realm="example.com", nonce="abc", algorithm=SHA-256, qop="auth")");
}

TEST(Challenge, StaleOpaqueAndMd5) {
  EXPECT_EQ(make_challenge({.realm = "example.com",
                            .nonce = "abc",
                            .algorithm = digest_algorithm::md5,
                            .stale = true,
                            .opaque = "xyz"}),
            R"(Digest realm="example.com", nonce="abc", algorithm=MD5, qop="auth", stale=true, )"
            R"(opaque="xyz")");
}

TEST(Challenge, EscapesAndDropsControlCharacters) {
  EXPECT_EQ(make_challenge({.realm = "a\"b\\c\r\nX-Injected: 1", .nonce = "n"}),
            R"(Digest realm="a\"b\\cX-Injected: 1", nonce="n", algorithm=SHA-256, qop="auth")");
}

// What the server sends parses back into what a client would answer with.
TEST(Challenge, RoundTripThroughTheParser) {
  std::string nonce = make_nonce("secret-secret-secret", "example.com",
                                 std::chrono::sys_seconds{std::chrono::seconds{1'700'000'000}});
  std::string challenge = make_challenge({.realm = "example.com", .nonce = nonce, .stale = true});
  // The challenge lacks a client's parameters, so it is refused for that reason only.
  EXPECT_EQ(parse_credentials(challenge).error, credentials_errc::missing_param);
  credentials_result r = parse_credentials(
      challenge + R"(, username="u", uri="/", response="0", cnonce="c", nc=00000001)");
  ASSERT_TRUE(r.ok()) << r.error.message();
  EXPECT_EQ(r.credentials.nonce, nonce);
}

}  // namespace
}  // namespace junction::users
