#include "sip/syntax.hpp"

#include <algorithm>
#include <array>

namespace junction::sip {
namespace {

constexpr std::array<bool, 256> token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto token_chars = token_table();

// A parameter value that is not quoted: token characters plus what hosts and IPv6 references
// use (':' '[' ']'); RFC 3261's gen-value = token / host / quoted-string.
bool is_value_char(char c) noexcept {
  return is_token_char(c) || c == ':' || c == '[' || c == ']';
}

}  // namespace

bool is_token_char(char c) noexcept { return token_chars[static_cast<unsigned char>(c)]; }

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

std::string_view trim_left(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) noexcept {
  s = trim_left(s);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_decimal(std::string_view digits, std::uint64_t max) noexcept {
  if (digits.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (digit > max || v > (max - digit) / 10) return std::nullopt;  // v*10+digit > max
    v = v * 10 + digit;
  }
  return v;
}

std::optional<std::size_t> quoted_string_length(std::string_view s) noexcept {
  if (s.empty() || s.front() != '"') return std::nullopt;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): never a CR or LF
      if (i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return std::nullopt;
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::nullopt;
}

bool split_list(std::string_view value, list_items& out, std::size_t max_items) noexcept {
  std::size_t start = 0;
  bool in_angle = false;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || (value[i] == ',' && !in_angle)) {
      if (out.size() >= max_items) return false;
      out.push_back(trim(value.substr(start, i - start)));
      start = i + 1;
      continue;
    }
    char c = value[i];
    if (c == '"') {
      auto n = quoted_string_length(value.substr(i));
      if (!n) return false;
      i += *n - 1;
    } else if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    }
  }
  return !in_angle;
}

const param* param_list::find(std::string_view name) const noexcept {
  for (const auto& p : items_)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

std::string_view param_list::value(std::string_view name) const noexcept {
  const param* p = find(name);
  return p ? p->value : std::string_view{};
}

bool parse_params(std::string_view text, param_list& out, std::size_t max_params) noexcept {
  auto& items = out.items();
  std::string_view s = trim_left(text);
  while (!s.empty()) {
    if (s.front() != ';') return false;
    s = trim_left(s.substr(1));
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n])) ++n;
    if (n == 0) return false;  // ";;" or ";=" or a name with characters a token may not hold
    if (items.size() >= max_params) return false;
    param p{s.substr(0, n), {}, false};
    s = trim_left(s.substr(n));
    if (!s.empty() && s.front() == '=') {
      s = trim_left(s.substr(1));
      std::size_t v = 0;
      if (!s.empty() && s.front() == '"') {
        auto q = quoted_string_length(s);
        if (!q) return false;
        v = *q;
      } else {
        while (v < s.size() && is_value_char(s[v])) ++v;
        if (v == 0) return false;
      }
      p.value = s.substr(0, v);
      p.has_value = true;
      s = trim_left(s.substr(v));
    }
    items.push_back(p);
  }
  return true;
}

std::optional<std::uint32_t> delta_seconds(std::string_view text) noexcept {
  constexpr std::uint64_t max_u32 = 0xFFFFFFFFull;
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  auto v = parse_decimal(text.substr(0, 10), UINT64_MAX);
  if (!v) return std::nullopt;
  return static_cast<std::uint32_t>(text.size() > 10 ? max_u32 : std::min(*v, max_u32));
}

}  // namespace junction::sip
