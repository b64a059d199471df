#include "users/nonce.hpp"

#include "core/base64.hpp"

#include "users/hmac.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace junction::users {
namespace {

constexpr std::size_t timestamp_size = 8;
constexpr std::size_t mac_size = 16;  // half of SHA-256: 128 bits is plenty against forgery
constexpr std::size_t raw_size = timestamp_size + mac_size;
constexpr std::size_t encoded_size = raw_size / 3 * 4;  // 24 bytes -> 32 chars, no padding
static_assert(raw_size % 3 == 0, "the nonce must encode without '=' padding");

using raw_nonce = std::array<unsigned char, raw_size>;

std::string encode(const raw_nonce& raw) {
  return base64::encode({reinterpret_cast<const char*>(raw.data()), raw.size()}, base64::alphabet::url, false);
}

std::optional<raw_nonce> decode(std::string_view text) {
  if (text.size() != encoded_size) return std::nullopt;
  auto bytes = base64::decode(text, base64::alphabet::url, false);
  if (!bytes || bytes->size() != raw_size) return std::nullopt;
  raw_nonce raw{};
  std::memcpy(raw.data(), bytes->data(), raw_size);
  return raw;
}

// Writes the MAC over raw[0..8) || realm into raw[8..24). False only if OpenSSL fails.
bool sign(std::string_view secret, std::string_view realm, raw_nonce& raw) noexcept {
  sha256_mac mac;
  std::string_view timestamp{reinterpret_cast<const char*>(raw.data()), timestamp_size};
  if (!hmac_sha256(secret, {timestamp, realm}, mac)) return false;
  std::memcpy(raw.data() + timestamp_size, mac.data(), mac_size);
  return true;
}

}  // namespace

std::string make_nonce_secret() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), static_cast<int>(secret.size())) != 1)
    throw std::runtime_error("OpenSSL's random generator failed to produce a nonce secret");
  return secret;
}

std::string make_nonce(std::string_view secret, std::string_view realm,
                       std::chrono::sys_seconds now) {
  raw_nonce raw{};
  auto t = static_cast<std::uint64_t>(now.time_since_epoch().count());
  for (std::size_t i = 0; i < timestamp_size; ++i)
    raw[i] = static_cast<unsigned char>(t >> (8 * (timestamp_size - 1 - i)));
  if (!sign(secret, realm, raw)) throw std::runtime_error("OpenSSL failed to compute HMAC-SHA256");
  return encode(raw);
}

nonce_status check_nonce(std::string_view secret, std::string_view realm, std::string_view nonce,
                         std::chrono::sys_seconds now, std::chrono::seconds lifetime) noexcept {
  std::optional<raw_nonce> got = decode(nonce);
  if (!got) return nonce_status::bad;
  raw_nonce expected = *got;
  if (!sign(secret, realm, expected)) return nonce_status::bad;
  // Constant time: an early exit would tell a forger how much of its MAC was right.
  if (CRYPTO_memcmp(expected.data() + timestamp_size, got->data() + timestamp_size, mac_size) != 0)
    return nonce_status::bad;

  std::uint64_t issued = 0;
  for (std::size_t i = 0; i < timestamp_size; ++i) issued = (issued << 8) | (*got)[i];
  // Both times are two's-complement seconds; unsigned subtraction gives the exact distance
  // without the overflow a signed one could hit.
  const auto current = static_cast<std::uint64_t>(now.time_since_epoch().count());
  const bool ahead = static_cast<std::int64_t>(issued) > static_cast<std::int64_t>(current);
  const std::uint64_t distance = ahead ? issued - current : current - issued;
  const std::int64_t allowed = ahead ? nonce_clock_skew.count() : lifetime.count();
  return allowed >= 0 && distance <= static_cast<std::uint64_t>(allowed) ? nonce_status::ok
                                                                          : nonce_status::stale;
}

}  // namespace junction::users
