#include "sip/digest_auth.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"
#include "sip/parser.hpp"
#include "users/digest.hpp"
#include "users/nonce.hpp"

namespace junction::sip {
namespace {

using namespace std::chrono_literals;
using users::digest_algorithm;

const std::chrono::sys_seconds now{std::chrono::seconds{1'800'000'000}};

struct fixture {
  auth_settings settings{"0123456789abcdef0123456789abcdef", 300s};
  user_lookup lookup = [](std::string_view user, std::string_view realm) -> std::optional<users::user_record> {
    if (user != "alice" && user != "bob") return std::nullopt;
    return users::user_record{std::string(user), std::string(realm),
                              users::ha1(digest_algorithm::md5, user, realm, "secret"),
                              users::ha1(digest_algorithm::sha256, user, realm, "secret"), 0, {}, {}};
  };

  message request(std::string_view authorization, std::string_view user_agent = {}) {
    std::string text = test::crlf(
        "REGISTER sip:example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-a\n"
        "From: <sip:alice@example.com>;tag=1\nTo: <sip:alice@example.com>\n"
        "Call-ID: auth\nCSeq: 2 REGISTER\nContact: <sip:alice@192.0.2.1>\n");
    if (!user_agent.empty()) text += "User-Agent: " + std::string(user_agent) + "\r\n";
    if (!authorization.empty()) text += "Authorization: " + std::string(authorization) + "\r\n";
    text += "Content-Length: 0\r\n\r\n";
    auto r = parse_message(text, parse_limits{}, true);
    EXPECT_TRUE(r.ok()) << r.reason();
    return std::move(*r.msg);
  }

  // What a client computes for a challenge.
  std::string answer(std::string_view user, std::string_view password, digest_algorithm algorithm,
                     std::string_view nonce, std::string_view uri = "sip:example.com") {
    std::string ha1 = users::ha1(algorithm, user, "example.com", password);
    std::string response = users::response(algorithm, ha1, nonce, "00000001", "c0ffee",
                                           users::digest_qop::auth, "REGISTER", uri);
    return "Digest username=\"" + std::string(user) + "\", realm=\"example.com\", nonce=\"" +
           std::string(nonce) + "\", uri=\"" + std::string(uri) + "\", response=\"" + response +
           "\", algorithm=" + std::string(users::algorithm_name(algorithm)) +
           ", qop=auth, nc=00000001, cnonce=\"c0ffee\"";
  }

  auth_verdict check(std::string_view authorization, std::chrono::sys_seconds at = now) {
    return authenticate(request(authorization), "example.com", "alice", lookup, settings, at);
  }
};

TEST(DigestAuth, NoCredentialsGetsBothChallengesSha256First) {
  fixture f;
  auth_verdict v = f.check("");
  EXPECT_EQ(v.what, auth_verdict::kind::challenge);
  ASSERT_EQ(v.challenges.size(), 2u);
  EXPECT_NE(v.challenges[0].find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(v.challenges[1].find("algorithm=MD5"), std::string::npos);
  EXPECT_NE(v.challenges[0].find("realm=\"example.com\""), std::string::npos);
  EXPECT_TRUE(v.username.empty());
  // An unknown scheme is no credentials at all (RFC 4475 §3.3.8): a challenge, not a 400.
  EXPECT_EQ(f.check("NoOneKnowsThisScheme opaque-data=here").what, auth_verdict::kind::challenge);
}

TEST(DigestAuth, ClientsThatFailOnTheListGetOneMd5Challenge) {
  fixture f;
  for (std::string_view agent : {"baresip v1.0.0 (x86_64/linux)", "JsSIP 3.10.0", "SIP.js/0.21.2",
                                 "BARESIP v3.16.0"}) {
    auth_verdict v = authenticate(f.request("", agent), "example.com", "alice", f.lookup, f.settings, now);
    EXPECT_EQ(v.what, auth_verdict::kind::challenge) << agent;
    ASSERT_EQ(v.challenges.size(), 1u) << agent;
    EXPECT_NE(v.challenges[0].find("algorithm=MD5"), std::string::npos) << agent;
  }
  // Others, Linphone among them, get the list, SHA-256 first.
  auth_verdict linphone = authenticate(f.request("", "Linphone/5.1.65 (belle-sip/5.1.55)"), "example.com", "alice",
                                       f.lookup, f.settings, now);
  ASSERT_EQ(linphone.challenges.size(), 2u);
  EXPECT_NE(linphone.challenges[0].find("algorithm=SHA-256"), std::string::npos);
  // A server that offers no MD5 gives such a client what it has.
  f.settings.algorithms = {digest_algorithm::sha256};
  auth_verdict v = authenticate(f.request("", "baresip v1.0.0"), "example.com", "alice", f.lookup, f.settings, now);
  ASSERT_EQ(v.challenges.size(), 1u);
  EXPECT_NE(v.challenges[0].find("algorithm=SHA-256"), std::string::npos);
}

TEST(DigestAuth, RightAnswersPassWithEitherAlgorithm) {
  fixture f;
  std::string nonce = users::make_nonce(f.settings.nonce_secret, "example.com", now);
  EXPECT_EQ(f.check(f.answer("alice", "secret", digest_algorithm::sha256, nonce)).what,
            auth_verdict::kind::authenticated);
  EXPECT_EQ(f.check(f.answer("alice", "secret", digest_algorithm::md5, nonce)).what,
            auth_verdict::kind::authenticated);
}

TEST(DigestAuth, WrongAnswersAreChallengedAgainAndNamed) {
  fixture f;
  std::string nonce = users::make_nonce(f.settings.nonce_secret, "example.com", now);
  auth_verdict wrong = f.check(f.answer("alice", "guess", digest_algorithm::sha256, nonce));
  EXPECT_EQ(wrong.what, auth_verdict::kind::challenge);
  EXPECT_EQ(wrong.username, "alice");
  EXPECT_EQ(f.check(f.answer("mallory", "secret", digest_algorithm::md5, nonce)).what,
            auth_verdict::kind::challenge);
  EXPECT_EQ(f.check(f.answer("alice", "secret", digest_algorithm::md5, "forged-nonce")).what,
            auth_verdict::kind::challenge);
  // bob knows his own password but may not register alice's address.
  EXPECT_EQ(f.check(f.answer("bob", "secret", digest_algorithm::sha256, nonce)).what,
            auth_verdict::kind::forbidden);
  // Credentials computed for another Request-URI do not count for this one.
  EXPECT_EQ(f.check(f.answer("alice", "secret", digest_algorithm::md5, nonce, "sip:other.example.com")).what,
            auth_verdict::kind::bad_request);
  EXPECT_EQ(f.check("Digest username=\"alice").what, auth_verdict::kind::bad_request);
}

TEST(DigestAuth, AnOldNonceWithTheRightAnswerIsStale) {
  fixture f;
  std::string old = users::make_nonce(f.settings.nonce_secret, "example.com", now - 600s);
  auth_verdict v = f.check(f.answer("alice", "secret", digest_algorithm::sha256, old));
  EXPECT_EQ(v.what, auth_verdict::kind::challenge);
  ASSERT_FALSE(v.challenges.empty());
  EXPECT_NE(v.challenges[0].find("stale=true"), std::string::npos);
  auth_verdict wrong = f.check(f.answer("alice", "guess", digest_algorithm::sha256, old));
  EXPECT_EQ(wrong.challenges[0].find("stale=true"), std::string::npos);  // no hint without the password
}

}  // namespace
}  // namespace junction::sip
