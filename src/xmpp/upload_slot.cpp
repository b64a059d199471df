#include "xmpp/upload_slot.hpp"

#include <openssl/crypto.h>

#include <charconv>

#include "users/hmac.hpp"

namespace junction::xmpp {
namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string token(std::string_view secret, const upload_grant& g) {
  const std::string size = std::to_string(g.size), expires = std::to_string(g.expires);
  users::sha256_mac mac{};
  users::hmac_sha256(secret, {"upload put\n", g.path, "\n", size, "\n", g.content_type, "\n", expires}, mac);
  return hex(mac.data(), mac.size());
}

std::string_view query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.size() > key.size() && part.starts_with(key) && part[key.size()] == '=') return part.substr(key.size() + 1);
  }
  return {};
}

template <class T>
bool number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::string upload_file_name(std::string_view requested) {
  // Only the last path component counts.
  if (const auto slash = requested.find_last_of("/\\"); slash != std::string_view::npos)
    requested = requested.substr(slash + 1);
  std::string out;
  for (char c : requested) {
    if (out.size() >= 100) break;
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
    out += safe ? c : '_';
  }
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() ? std::string("file") : out;
}

std::string upload_owner_key(std::string_view secret, std::string_view owner) {
  users::sha256_mac mac{};
  users::hmac_sha256(secret, {"upload owner\n", owner}, mac);
  return hex(mac.data(), 8);
}

std::string upload_query(std::string_view secret, const upload_grant& grant) {
  return "size=" + std::to_string(grant.size) + "&expires=" + std::to_string(grant.expires) +
         "&token=" + token(secret, grant);
}

std::optional<upload_grant> upload_check(std::string_view secret, std::string_view path, std::string_view query,
                                         std::string_view content_type, std::int64_t now) {
  upload_grant g;
  g.path = path;
  if (!number(query_value(query, "size"), g.size) || !number(query_value(query, "expires"), g.expires)) return std::nullopt;
  if (g.expires < now) return std::nullopt;
  const std::string_view given = query_value(query, "token");
  // Signed with the type the slot named, or with none when the slot named none.
  for (std::string_view type : {content_type, std::string_view{}}) {
    g.content_type = type;
    const std::string expected = token(secret, g);
    if (given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0) return g;
  }
  return std::nullopt;
}

}  // namespace junction::xmpp
