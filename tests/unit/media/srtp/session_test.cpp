#include "media/srtp/session.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <srtp2/cipher.h>

#include "media/rtp/packet.hpp"
#include "media/rtp/rtcp.hpp"

// libsrtp's own AES counter mode (exported, not in its public headers), for RFC 3711 B.2.
extern "C" const srtp_cipher_type_t srtp_aes_icm_128;

namespace junction::media::srtp {
namespace {

std::vector<std::uint8_t> hex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

// RFC 3711 appendix B.3's master key and salt. libsrtp's reference packet (its srtp_validate)
// is protected with them under AES_CM_128_HMAC_SHA1_80: key derivation (B.3), AES-CM (B.2) and
// HMAC-SHA1 all have to be right for these bytes to come out.
const auto rfc3711_master = hex("e1f97a0d3e018be0d64fa32c06de4139" "0ec675ad498afeebb6960b3aabe6");
const auto plaintext = hex("800f1234decafbadcafebabe" "abababababababababababababababab");
const auto ciphertext = hex("800f1234decafbadcafebabe" "4e55dc4ce79978d88ca4d215949d2402" "b78d6acc99ea179b8dbb");

// RFC 3711 appendix B.2: AES counter mode's keystream for a session key and salt, the first
// three 16-byte blocks. Checked against libsrtp's cipher and against plain AES (OpenSSL).
TEST(Srtp, Rfc3711AesCounterModeKeystream) {
  const auto key = hex("2b7e151628aed2a6abf7158809cf4f3c");
  const auto salt = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfd");
  const auto expected = hex("e03ead0935c95e80e166b16dd92b4eb4" "d23513162b02d0f72a43a2fe4a5f97ab"
                            "41e95b3bb0a2e8dd477901e4fca894c0");
  ASSERT_TRUE(session::create(suite::aes_cm_128_hmac_sha1_80, rfc3711_master, session::direction::outbound));  // srtp_init
  srtp_cipher_t* c = nullptr;
  ASSERT_EQ(srtp_cipher_type_alloc(&srtp_aes_icm_128, &c, 30, 0), srtp_err_status_ok);
  auto key_and_salt = key;
  key_and_salt.insert(key_and_salt.end(), salt.begin(), salt.end());
  ASSERT_EQ(srtp_cipher_init(c, key_and_salt.data()), srtp_err_status_ok);
  std::vector<std::uint8_t> iv(16, 0);  // SSRC and packet index zero: the counter starts at the salt
  ASSERT_EQ(srtp_cipher_set_iv(c, iv.data(), srtp_direction_encrypt), srtp_err_status_ok);
  std::vector<std::uint8_t> stream(48, 0);
  std::uint32_t n = 48;
  ASSERT_EQ(srtp_cipher_encrypt(c, stream.data(), &n), srtp_err_status_ok);
  srtp_cipher_dealloc(c);
  EXPECT_EQ(stream, expected);
  // The same blocks from AES itself: E(k, salt || counter).
  EVP_CIPHER_CTX* aes = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(aes, EVP_aes_128_ecb(), nullptr, key.data(), nullptr);
  EVP_CIPHER_CTX_set_padding(aes, 0);
  for (std::uint8_t block = 0; block < 3; ++block) {
    auto counter = salt;
    counter.push_back(0);
    counter.push_back(block);
    std::vector<std::uint8_t> out(32);
    int len = 0;
    EVP_EncryptUpdate(aes, out.data(), &len, counter.data(), 16);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 16, expected.begin() + 16 * block)) << "block " << int(block);
  }
  EVP_CIPHER_CTX_free(aes);
}

TEST(Srtp, KnownAnswerWithTheRfc3711MasterKey) {
  auto out = session::create(suite::aes_cm_128_hmac_sha1_80, rfc3711_master, session::direction::outbound);
  ASSERT_TRUE(out);
  auto packet = plaintext;
  ASSERT_EQ(out->protect_rtp(packet), status::ok);
  EXPECT_EQ(packet, ciphertext);
  auto in = session::create(suite::aes_cm_128_hmac_sha1_80, rfc3711_master, session::direction::inbound);
  ASSERT_EQ(in->unprotect_rtp(packet), status::ok);
  EXPECT_EQ(packet, plaintext);
}

TEST(Srtp, EverySuiteRoundTripsAndRefusesReplayAndTampering) {
  for (suite s : {suite::aes_cm_128_hmac_sha1_80, suite::aes_cm_128_hmac_sha1_32, suite::aead_aes_128_gcm}) {
    SCOPED_TRACE(std::string(suite_name(s)));
    auto master = random_master(s);
    auto tx = session::create(s, master, session::direction::outbound);
    auto rx = session::create(s, master, session::direction::inbound);
    ASSERT_TRUE(tx && rx);
    for (std::uint16_t seq = 1; seq <= 50; ++seq) {
      rtp::header h;
      h.sequence = seq;
      h.timestamp = 160u * seq;
      h.ssrc = 0x5EED;
      std::vector<std::uint8_t> payload(160, static_cast<std::uint8_t>(seq)), packet;
      rtp::write_packet(h, payload, packet);
      const auto clear = packet;
      ASSERT_EQ(tx->protect_rtp(packet), status::ok);
      EXPECT_NE(packet, clear);
      EXPECT_EQ(packet.size(), clear.size() + (s == suite::aes_cm_128_hmac_sha1_32 ? 4 : s == suite::aead_aes_128_gcm ? 16 : 10));
      auto copy = packet;
      ASSERT_EQ(rx->unprotect_rtp(packet), status::ok);
      EXPECT_EQ(packet, clear);
      EXPECT_EQ(rx->unprotect_rtp(copy), status::replayed) << "the same packet twice";
    }
    rtp::header h;
    h.sequence = 51;
    h.ssrc = 0x5EED;
    std::vector<std::uint8_t> payload(20, 1), packet;
    rtp::write_packet(h, payload, packet);
    ASSERT_EQ(tx->protect_rtp(packet), status::ok);
    packet[15] ^= 1;  // one bit of payload
    EXPECT_EQ(rx->unprotect_rtp(packet), status::auth_failed);

    std::vector<std::uint8_t> report;
    rtp::write_receiver_report({0x5EED, {rtp::report_block{1, 2, 3, 4, 5, 6, 7}}}, report);
    rtp::write_sdes({0x5EED, "junction"}, report);
    const auto clear_report = report;
    ASSERT_EQ(tx->protect_rtcp(report), status::ok);
    ASSERT_EQ(rx->unprotect_rtcp(report), status::ok);
    EXPECT_EQ(report, clear_report);
  }
}

TEST(Srtp, InlineKeysAndSuites) {
  auto key = make_inline_key(rfc3711_master);
  EXPECT_EQ(key, "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm");
  EXPECT_EQ(parse_inline_key(key, suite::aes_cm_128_hmac_sha1_80), rfc3711_master);
  EXPECT_EQ(parse_inline_key(key + "|2^20", suite::aes_cm_128_hmac_sha1_80), rfc3711_master);
  EXPECT_FALSE(parse_inline_key(key + "|2^20|1:4", suite::aes_cm_128_hmac_sha1_80));  // MKI
  EXPECT_FALSE(parse_inline_key(key, suite::aead_aes_128_gcm));                       // wrong length
  EXPECT_FALSE(parse_inline_key("inline:!!!!", suite::aes_cm_128_hmac_sha1_80));
  EXPECT_FALSE(parse_inline_key("uri:x", suite::aes_cm_128_hmac_sha1_80));
  EXPECT_EQ(parse_suite("AES_CM_128_HMAC_SHA1_32"), suite::aes_cm_128_hmac_sha1_32);
  EXPECT_FALSE(parse_suite("F8_128_HMAC_SHA1_80"));
  EXPECT_FALSE(session::create(suite::aes_cm_128_hmac_sha1_80, std::vector<std::uint8_t>(5), session::direction::inbound));
  auto in = session::create(suite::aes_cm_128_hmac_sha1_80, rfc3711_master, session::direction::inbound);
  std::vector<std::uint8_t> junk{1, 2, 3};
  EXPECT_EQ(in->unprotect_rtp(junk), status::malformed);
}

}  // namespace
}  // namespace junction::media::srtp
