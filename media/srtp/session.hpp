#pragma once
// SRTP and SRTCP (RFC 3711) through libsrtp2, keyed by SDES (RFC 4568): the crypto suites SDP
// names, the inline key parameters, and a session that protects what this side sends or
// unprotects what it receives (with libsrtp's replay window: a packet seen before is refused).
// One session per direction per stream, used by one shard.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::media::srtp {

enum class suite { aes_cm_128_hmac_sha1_80, aes_cm_128_hmac_sha1_32, aead_aes_128_gcm };

std::optional<suite> parse_suite(std::string_view name) noexcept;
std::string_view suite_name(suite s) noexcept;
// Master key and salt together: 30 bytes for AES-CM (16 + 14), 28 for AES-GCM (16 + 12).
std::size_t master_length(suite s) noexcept;

// "inline:<base64 key||salt>[|lifetime][|MKI:length]" -> the master key and salt. Lifetimes are
// accepted and ignored (libsrtp rekeys nothing by itself); MKIs are refused (no phone Junction
// meets uses them, and they change the packet format).
std::optional<std::vector<std::uint8_t>> parse_inline_key(std::string_view key_params, suite s);
std::string make_inline_key(std::span<const std::uint8_t> master);
// Fresh random master key material for a suite (OpenSSL's RAND_bytes).
std::vector<std::uint8_t> random_master(suite s);

enum class status { ok, auth_failed, replayed, malformed, failed };
std::string_view describe(status s) noexcept;

class session {
 public:
  enum class direction { outbound, inbound };
  // Nothing when libsrtp refuses the key.
  static std::unique_ptr<session> create(suite s, std::span<const std::uint8_t> master, direction d);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // In place: the packet grows by the authentication tag when protected, shrinks when not.
  status protect_rtp(std::vector<std::uint8_t>& packet);
  status unprotect_rtp(std::vector<std::uint8_t>& packet);
  status protect_rtcp(std::vector<std::uint8_t>& packet);
  status unprotect_rtcp(std::vector<std::uint8_t>& packet);

 private:
  struct impl;
  explicit session(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace junction::media::srtp
