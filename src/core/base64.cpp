#include "core/base64.hpp"

#include <cstdint>

namespace junction::base64 {
namespace {

constexpr char standard_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int value_of(char c, alphabet a) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (a == alphabet::url ? '-' : '+')) return 62;
  if (c == (a == alphabet::url ? '_' : '/')) return 63;
  return -1;
}

}  // namespace

std::string encode(std::string_view bytes, alphabet a, bool pad) {
  const char* chars = a == alphabet::url ? url_chars : standard_chars;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += chars[(v >> shift) & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
  if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
  out += chars[(v >> 18) & 0x3f];
  out += chars[(v >> 12) & 0x3f];
  if (rest == 2) out += chars[(v >> 6) & 0x3f];
  if (pad) out.append(rest == 1 ? 2 : 1, '=');
  return out;
}

std::optional<std::string> decode(std::string_view text, alphabet a, bool pad) {
  std::size_t padding = 0;
  if (pad) {
    if (text.size() % 4 != 0) return std::nullopt;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
    text.remove_suffix(padding);
  }
  if (text.size() % 4 == 1) return std::nullopt;
  if (pad && padding != (4 - text.size() % 4) % 4) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t v = 0;
  int bits = 0;
  for (char c : text) {
    const int d = value_of(c, a);
    if (d < 0) return std::nullopt;
    v = (v << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  // The bits left over must be zero: one value, one spelling.
  if (bits > 0 && (v & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace junction::base64
