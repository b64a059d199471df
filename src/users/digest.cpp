#include "users/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstddef>
#include <initializer_list>
#include <stdexcept>

namespace junction::users {
namespace {

const EVP_MD* evp_md(digest_algorithm alg) noexcept {
  return alg == digest_algorithm::md5 ? EVP_md5() : EVP_sha256();
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Joins the parts with ':' — every digest input in RFC 7616 §3.4 is such a concatenation.
std::string colon_join(std::initializer_list<std::string_view> parts) {
  std::size_t size = parts.size();
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) out += ':';
    out += p;
    first = false;
  }
  return out;
}

}  // namespace

std::string_view algorithm_name(digest_algorithm alg) noexcept {
  return alg == digest_algorithm::md5 ? "MD5" : "SHA-256";
}

std::optional<digest_algorithm> parse_algorithm(std::string_view name) noexcept {
  if (name.empty() || ascii_iequals(name, "MD5")) return digest_algorithm::md5;
  if (ascii_iequals(name, "SHA-256")) return digest_algorithm::sha256;
  return std::nullopt;
}

std::optional<digest_qop> parse_qop(std::string_view qop) noexcept {
  if (qop.empty()) return digest_qop::none;
  if (qop == "auth") return digest_qop::auth;
  return std::nullopt;
}

std::string hex_digest(digest_algorithm alg, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, evp_md(alg), nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot compute " + std::string(algorithm_name(alg)) +
                             " (is a FIPS-only provider loaded?)");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(2 * std::size_t{len}, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 0x0f];
  }
  return hex;
}

std::string ha1(digest_algorithm alg, std::string_view username, std::string_view realm,
                std::string_view password) {
  std::string a1 = colon_join({username, realm, password});
  std::string out = hex_digest(alg, a1);
  // The joined buffer holds the password; do not leave it behind in freed heap memory.
  OPENSSL_cleanse(a1.data(), a1.size());
  return out;
}

std::string response(digest_algorithm alg, std::string_view ha1_hex, std::string_view nonce,
                     std::string_view nc, std::string_view cnonce, digest_qop qop,
                     std::string_view method, std::string_view uri) {
  std::string ha2 = hex_digest(alg, colon_join({method, uri}));
  if (qop == digest_qop::none) return hex_digest(alg, colon_join({ha1_hex, nonce, ha2}));
  return hex_digest(alg, colon_join({ha1_hex, nonce, nc, cnonce, "auth", ha2}));
}

bool hex_equal_constant_time(std::string_view expected, std::string_view received) noexcept {
  if (expected.empty() || expected.size() != received.size()) return false;
  unsigned diff = 0;
  bool all_hex = true;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    all_hex &= is_hex(received[i]);
    // OR-ing 0x20 lowercases 'A'-'F' and leaves '0'-'9' (0x30-0x39) alone; non-hex characters,
    // which it could confuse, are refused by all_hex.
    diff |= (static_cast<unsigned char>(expected[i]) | 0x20u) ^
            (static_cast<unsigned char>(received[i]) | 0x20u);
  }
  return all_hex && diff == 0;
}

}  // namespace junction::users
