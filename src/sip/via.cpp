#include "sip/via.hpp"

#include <cctype>

namespace junction::sip {
namespace {

// Takes one token from the front of `s` (after optional whitespace).
std::string_view take_token(std::string_view& s) noexcept {
  s = trim_left(s);
  std::size_t n = 0;
  while (n < s.size() && is_token_char(s[n])) ++n;
  std::string_view t = s.substr(0, n);
  s = s.substr(n);
  return t;
}

bool take_slash(std::string_view& s) noexcept {
  s = trim_left(s);
  if (s.empty() || s.front() != '/') return false;
  s = s.substr(1);
  return true;
}

}  // namespace

std::optional<via> parse_via(std::string_view element) noexcept {
  via v;
  v.text = element;
  std::string_view s = element;
  if (!iequals(take_token(s), "SIP") || !take_slash(s)) return std::nullopt;
  if (take_token(s) != "2.0" || !take_slash(s)) return std::nullopt;
  v.transport = take_token(s);
  if (v.transport.empty()) return std::nullopt;
  std::string_view rest = trim_left(s);
  if (rest.size() == s.size()) return std::nullopt;  // LWS must separate transport and sent-by

  // sent-by = host [ COLON port ]; IPv6 references keep their brackets.
  std::size_t end = 0;
  if (!rest.empty() && rest.front() == '[') {
    end = rest.find(']');
    if (end == std::string_view::npos) return std::nullopt;
    ++end;
  } else {
    while (end < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[end])) ||
                                 rest[end] == '-' || rest[end] == '.'))
      ++end;
  }
  if (end == 0) return std::nullopt;
  v.host = rest.substr(0, end);
  rest = trim_left(rest.substr(end));
  if (!rest.empty() && rest.front() == ':') {
    rest = trim_left(rest.substr(1));
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    auto port = parse_decimal(rest.substr(0, digits), 65535);
    if (!port || *port == 0) return std::nullopt;
    v.port = static_cast<std::uint16_t>(*port);
    rest = rest.substr(digits);
  }
  if (!parse_params(rest, v.params, 32)) return std::nullopt;
  return v;
}

std::string stamp_via(const via& v, std::string_view source_ip, std::uint16_t source_port) {
  const bool wants_rport = v.params.has("rport");
  std::string out;
  out.reserve(v.text.size() + source_ip.size() + 24);
  out.append("SIP/2.0/").append(v.transport).append(" ").append(v.host);
  if (v.port) out.append(":").append(std::to_string(v.port));
  for (const auto& p : v.params.items()) {
    if (iequals(p.name, "received")) continue;
    if (iequals(p.name, "rport")) {
      out.append(";rport=").append(std::to_string(source_port));
      continue;
    }
    out.append(";").append(p.name);
    if (p.has_value) out.append("=").append(p.value);
  }
  if (wants_rport || v.host != source_ip) out.append(";received=").append(source_ip);
  return out;
}

}  // namespace junction::sip
