#pragma once
// SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) as views into the text they were parsed
// from. Any other scheme parses as scheme plus opaque text: it is legal in To/From/Contact
// (RFC 4475 §3.3.4), and a Request-URI in a scheme the server cannot serve draws a 416.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/syntax.hpp"

namespace junction::sip {

enum class uri_scheme : std::uint8_t { sip, sips, tel, other };

struct uri {
  uri_scheme scheme = uri_scheme::other;
  std::string_view scheme_text;  // as written
  std::string_view user;         // sip/sips: still %-escaped; tel: the number
  std::string_view password;
  std::string_view host;         // IPv6 references keep their brackets
  std::uint16_t port = 0;        // 0 = none given
  param_list params;             // ";transport=tcp;lr" (sip/sips/tel)
  std::string_view headers;      // after '?', still escaped (sip/sips)
  std::string_view opaque;       // everything after "scheme:" for other schemes
  std::string_view text;         // the whole URI

  bool is_sip_family() const noexcept { return scheme == uri_scheme::sip || scheme == uri_scheme::sips; }
  // The default port for the scheme when none is given (RFC 3263: 5060, 5061 for sips).
  std::uint16_t port_or_default() const noexcept {
    return port ? port : (scheme == uri_scheme::sips ? 5061 : 5060);
  }
};

// Parses an absolute URI with no surrounding whitespace. Returns nothing for text that is not a
// URI at all (no scheme, whitespace or angle brackets inside, a bad escape, host or port).
std::optional<uri> parse_uri(std::string_view text) noexcept;

// Undoes %HH escapes (the caller checked they are well formed): for comparing user parts.
std::string unescape(std::string_view s);

// RFC 3261 §19.1.4 equality for sip/sips: user and password case-sensitive after unescaping,
// host case-insensitive, ports equal, and user/ttl/method/maddr/transport params equal when
// either side has them. Other schemes compare their text case-insensitively.
bool uri_equal(const uri& a, const uri& b);

}  // namespace junction::sip
