#include "users/scram.hpp"

#include <gtest/gtest.h>

#include "core/base64.hpp"

namespace junction::users {
namespace {

// RFC 7677 §3 (SCRAM-SHA-256) and RFC 5802 §5 (SCRAM-SHA-1): user "user", password "pencil".
struct vector {
  scram_hash hash;
  const char* salt_b64;
  const char* client_first;
  const char* server_nonce;
  const char* server_first;
  const char* client_final;
  const char* server_final;
};

const vector rfc7677{scram_hash::sha256, "W22ZaJ0SNY7soEsUEjb6gQ==", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                     "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                     "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="};
const vector rfc5802{scram_hash::sha1, "QSXCR+Q6sek8bf92", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", "3rfcNHYJY1ZVvWVs7j",
                     "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
                     "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
                     "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="};

scram_keys keys_of(const vector& v, const char* password = "pencil") {
  return derive_scram_keys(v.hash, password, *base64::decode(v.salt_b64), 4096);
}

class ScramVectors : public ::testing::TestWithParam<vector> {};

TEST_P(ScramVectors, TheRfcExchangeSucceedsAndProvesTheServer) {
  const auto& v = GetParam();
  scram_server server(v.hash);
  ASSERT_FALSE(server.client_first(v.client_first));
  EXPECT_EQ(server.username(), "user");
  EXPECT_EQ(server.server_first(keys_of(v), v.server_nonce), v.server_first);
  std::string final_message;
  ASSERT_FALSE(server.client_final(v.client_final, final_message));
  EXPECT_EQ(final_message, v.server_final);
}

TEST_P(ScramVectors, AWrongPasswordFailsAtTheProof) {
  const auto& v = GetParam();
  scram_server server(v.hash);
  ASSERT_FALSE(server.client_first(v.client_first));
  server.server_first(keys_of(v, "pencils"), v.server_nonce);
  std::string final_message;
  EXPECT_EQ(server.client_final(v.client_final, final_message), scram_errc::invalid_proof);
  EXPECT_TRUE(final_message.empty());
}

TEST_P(ScramVectors, AnUnknownUserLooksLikeAWrongPassword) {
  const auto& v = GetParam();
  scram_server server(v.hash);
  ASSERT_FALSE(server.client_first(v.client_first));
  const std::string first = server.server_first({}, v.server_nonce, "secret");
  EXPECT_NE(first.find(",s="), std::string::npos);
  EXPECT_NE(first.find(",i=4096"), std::string::npos);
  // The same made-up salt for the same name, another for another name.
  scram_server again(v.hash);
  ASSERT_FALSE(again.client_first(v.client_first));
  EXPECT_EQ(again.server_first({}, v.server_nonce, "secret"), first);
  std::string final_message;
  EXPECT_EQ(server.client_final(v.client_final, final_message), scram_errc::invalid_proof);
}

INSTANTIATE_TEST_SUITE_P(Rfc, ScramVectors, ::testing::Values(rfc7677, rfc5802));

TEST(Scram, MalformedClientFirstMessagesAreRefused) {
  for (const char* bad : {"", "n", "n,", "x,,n=user,r=abc", "n,,r=abc", "n,,n=,r=abc", "n,,n=us=er,r=abc",
                          "n,,n=user", "n,,n=user,r=", "n,,n=user,r=a,b", "n,,m=ext,n=user,r=abc", "n,z=x,n=user,r=a",
                          "p=tls-exporter,,n=user,r=abc"}) {
    scram_server server(scram_hash::sha256);
    EXPECT_EQ(server.client_first(bad), scram_errc::malformed) << bad;
  }
}

TEST(Scram, EscapedNamesAreDecoded) {
  scram_server server(scram_hash::sha256);
  ASSERT_FALSE(server.client_first("n,a=x=2Cy,n=a=3Db=2Cc,r=nonce"));
  EXPECT_EQ(server.username(), "a=b,c");
  EXPECT_EQ(server.authzid(), "x,y");
}

TEST(Scram, AClientThatCouldBindIsRefusedWhenTheServerOfferedBinding) {
  scram_server offered(scram_hash::sha256, false, {}, true);
  EXPECT_EQ(offered.client_first("y,,n=user,r=abc"), scram_errc::binding_downgrade);
  scram_server not_offered(scram_hash::sha256);
  EXPECT_FALSE(not_offered.client_first("y,,n=user,r=abc"));
}

TEST(Scram, ChannelBindingDataAreChecked) {
  const auto keys = derive_scram_keys(scram_hash::sha256, "pencil", "salt", 4096);
  auto run = [&](std::string_view binding_sent) {
    scram_server server(scram_hash::sha256, true, {{"tls-server-end-point", "CERTHASH"}, {"tls-exporter", "EXPORTED"}});
    EXPECT_FALSE(server.client_first("p=tls-exporter,,n=user,r=abc"));
    const std::string first = server.server_first(keys, "def");
    // The client's proof is not right, but the binding is checked before it.
    std::string c = base64::encode(std::string("p=tls-exporter,,") + std::string(binding_sent));
    std::string out;
    return server.client_final("c=" + c + ",r=abcdef,p=" + base64::encode(std::string(32, 'x')), out);
  };
  EXPECT_EQ(run("EXPORTED"), scram_errc::invalid_proof);
  EXPECT_EQ(run("OTHER"), scram_errc::binding_mismatch);
  scram_server wrong_type(scram_hash::sha256, true, {{"tls-exporter", "EXPORTED"}});
  EXPECT_EQ(wrong_type.client_first("p=tls-unique,,n=user,r=abc"), scram_errc::unsupported_binding);
  scram_server must_bind(scram_hash::sha256, true, {{"tls-exporter", "EXPORTED"}});
  EXPECT_EQ(must_bind.client_first("n,,n=user,r=abc"), scram_errc::malformed);
}

TEST(Scram, AReplayedNonceOrAMessageOutOfOrderFails) {
  const auto& v = rfc7677;
  scram_server server(v.hash);
  std::string out;
  EXPECT_EQ(server.client_final(v.client_final, out), scram_errc::out_of_order);
  ASSERT_FALSE(server.client_first(v.client_first));
  server.server_first(keys_of(v), "another-nonce");
  EXPECT_EQ(server.client_final(v.client_final, out), scram_errc::nonce_mismatch);
  EXPECT_EQ(server.client_final(v.client_final, out), scram_errc::out_of_order);
}

TEST(Scram, FreshKeysHaveAFreshSaltAndVerify) {
  const auto a = make_scram_keys(scram_hash::sha256, "pencil");
  const auto b = make_scram_keys(scram_hash::sha256, "pencil");
  EXPECT_EQ(a.salt.size(), 16u);
  EXPECT_NE(a.salt, b.salt);
  EXPECT_EQ(a.iterations, scram_default_iterations);
  EXPECT_EQ(a.stored_key.size(), 32u);
  EXPECT_EQ(make_scram_keys(scram_hash::sha1, "pencil").stored_key.size(), 20u);
  EXPECT_EQ(derive_scram_keys(scram_hash::sha256, "pencil", a.salt, a.iterations).stored_key, a.stored_key);
}

}  // namespace
}  // namespace junction::users
