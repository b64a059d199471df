#include "sip/route_mark.hpp"

#include "users/hmac.hpp"

#include <openssl/crypto.h>

#include <array>
#include <functional>
#include <stdexcept>

namespace junction::sip {
namespace {

constexpr std::size_t mark_bytes = 16;
constexpr std::string_view purpose = "junction record-route\n";

bool compute_now(std::string_view secret, std::string_view call_id, std::string& hex) noexcept {
  users::sha256_mac mac;
  if (!users::hmac_sha256(secret, {purpose, call_id}, mac)) return false;
  static constexpr char digits[] = "0123456789abcdef";
  hex.resize(mark_bytes * 2);
  for (std::size_t i = 0; i < mark_bytes; ++i) {
    hex[2 * i] = digits[mac[i] >> 4];
    hex[2 * i + 1] = digits[mac[i] & 0xf];
  }
  return true;
}

// A dialog's mark is made for its INVITE and checked again for its ACK, its BYE and any other
// request in it, on the shard that handles them: each thread keeps the marks it computed last,
// by Call-ID (and secret), and answers those from memory instead of another HMAC.
struct remembered {
  std::string secret;
  std::string call_id;
  std::string hex;
};

bool compute(std::string_view secret, std::string_view call_id, std::string& hex) noexcept {
  constexpr std::size_t slots = 256;
  thread_local std::array<remembered, slots> memory;
  auto& slot = memory[std::hash<std::string_view>{}(call_id) % slots];
  if (!slot.hex.empty() && slot.call_id == call_id && slot.secret == secret) {
    try {
      hex.assign(slot.hex);
      return true;
    } catch (...) {  // allocation
      return false;
    }
  }
  if (!compute_now(secret, call_id, hex)) return false;
  try {
    slot.secret.assign(secret);
    slot.call_id.assign(call_id);
    slot.hex.assign(hex);
  } catch (...) {  // allocation: the next one computes it again
    slot.hex.clear();
  }
  return true;
}

}  // namespace

std::string make_route_mark(std::string_view secret, std::string_view call_id) {
  std::string hex;
  if (!compute(secret, call_id, hex)) throw std::runtime_error("OpenSSL failed to compute HMAC-SHA256");
  return hex;
}

std::string make_flow_token(std::string_view secret, std::string_view call_id, std::uint64_t flow) {
  const std::string id = std::to_string(flow);
  return id + "." + make_route_mark(secret, std::string(call_id) + "\nflow " + id);
}

std::optional<std::uint64_t> read_flow_token(std::string_view secret, std::string_view call_id,
                                             std::string_view token) noexcept {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 20) return std::nullopt;
  std::uint64_t flow = 0;
  for (char c : token.substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    flow = flow * 10 + static_cast<std::uint64_t>(c - '0');
  }
  try {
    const std::string id{token.substr(0, dot)};
    if (!route_mark_valid(secret, std::string(call_id) + "\nflow " + id, token.substr(dot + 1))) return std::nullopt;
  } catch (...) {  // allocation: no token
    return std::nullopt;
  }
  return flow;
}

bool route_mark_valid(std::string_view secret, std::string_view call_id, std::string_view mark) noexcept {
  if (mark.size() != mark_bytes * 2) return false;
  std::string expected;
  expected.reserve(mark_bytes * 2);
  if (!compute(secret, call_id, expected)) return false;
  return CRYPTO_memcmp(expected.data(), mark.data(), expected.size()) == 0;
}

}  // namespace junction::sip
