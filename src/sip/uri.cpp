#include "sip/uri.hpp"

namespace junction::sip {
namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) noexcept {
  return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

// Characters no URI may hold unescaped: they delimit it in a header (RFC 3261 §25.1 and the
// RFC 4475 §3.1.2.7/3.1.2.8/3.1.2.14 cases: a URI in <>, with spaces inside).
bool is_uri_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != '"';
}

// Every '%' starts a two-hex-digit escape.
bool escapes_well_formed(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    }
  return true;
}

bool valid_hostname(std::string_view h) noexcept {
  if (h.empty()) return false;
  if (h.front() == '[') {  // IPv6reference
    if (h.size() < 3 || h.back() != ']') return false;
    for (char c : h.substr(1, h.size() - 2))
      if (!is_hex(c) && c != ':' && c != '.') return false;
    return true;
  }
  for (char c : h)
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.') return false;
  return true;
}

// `hostport *(;param) [?headers]` after "user@" (or right after "sip:").
bool parse_sip_rest(std::string_view s, uri& u) noexcept {
  std::size_t q = s.find('?');
  if (q != std::string_view::npos) {
    u.headers = s.substr(q + 1);
    if (!escapes_well_formed(u.headers)) return false;
    s = s.substr(0, q);
  }
  std::size_t semi = s.find(';');
  std::string_view hostport = s.substr(0, semi);
  if (semi != std::string_view::npos) {
    std::string_view params = s.substr(semi);
    if (!escapes_well_formed(params) || !parse_params(params, u.params, 32)) return false;
  }
  std::size_t colon = hostport.front() == '[' ? hostport.find("]:") : hostport.rfind(':');
  if (colon != std::string_view::npos) {
    if (hostport.front() == '[') ++colon;
    auto port = parse_decimal(hostport.substr(colon + 1), 65535);
    if (!port || *port == 0) return false;
    u.port = static_cast<std::uint16_t>(*port);
    hostport = hostport.substr(0, colon);
  }
  u.host = hostport;
  return valid_hostname(u.host);
}

}  // namespace

std::optional<uri> parse_uri(std::string_view text) noexcept {
  if (text.empty() || !is_alpha(text.front())) return std::nullopt;
  for (char c : text)
    if (!is_uri_char(c)) return std::nullopt;
  std::size_t colon = 0;
  while (colon < text.size() && (is_alpha(text[colon]) || is_digit(text[colon]) ||
                                 text[colon] == '+' || text[colon] == '-' || text[colon] == '.'))
    ++colon;
  if (colon == text.size() || text[colon] != ':') return std::nullopt;

  uri u;
  u.text = text;
  u.scheme_text = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  if (iequals(u.scheme_text, "sip")) u.scheme = uri_scheme::sip;
  else if (iequals(u.scheme_text, "sips")) u.scheme = uri_scheme::sips;
  else if (iequals(u.scheme_text, "tel")) u.scheme = uri_scheme::tel;

  if (u.scheme == uri_scheme::other) {
    if (rest.empty()) return std::nullopt;
    u.opaque = rest;
    return u;
  }
  if (rest.empty()) return std::nullopt;
  if (u.scheme == uri_scheme::tel) {
    std::size_t semi = rest.find(';');
    u.user = rest.substr(0, semi);
    if (u.user.empty()) return std::nullopt;
    if (semi != std::string_view::npos && !parse_params(rest.substr(semi), u.params, 32))
      return std::nullopt;
    return u;
  }
  // userinfo ends at the last '@': user parts may hold ';' '?' '/' (RFC 3261's user-unreserved),
  // while params and headers may not hold an unescaped '@'.
  std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    std::size_t pw = userinfo.find(':');
    u.user = userinfo.substr(0, pw);
    if (pw != std::string_view::npos) u.password = userinfo.substr(pw + 1);
    if (u.user.empty() || !escapes_well_formed(userinfo)) return std::nullopt;
    rest = rest.substr(at + 1);
  }
  if (rest.empty() || !parse_sip_rest(rest, u)) return std::nullopt;
  return u;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool uri_equal(const uri& a, const uri& b) {
  if (a.scheme != b.scheme) return false;
  if (!a.is_sip_family()) return iequals(a.text, b.text);
  if (unescape(a.user) != unescape(b.user) || unescape(a.password) != unescape(b.password))
    return false;
  if (!iequals(a.host, b.host) || a.port != b.port) return false;
  for (std::string_view name : {"user", "ttl", "method", "maddr", "transport"}) {
    const param* pa = a.params.find(name);
    const param* pb = b.params.find(name);
    if ((pa == nullptr) != (pb == nullptr)) return false;
    if (pa && !iequals(pa->value, pb->value)) return false;
  }
  return true;
}

}  // namespace junction::sip
