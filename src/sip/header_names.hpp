#pragma once
// Header names the server reads, with their compact forms (RFC 3261 §7.3.3 and the extensions
// that define one). Any other header is `other` and is kept verbatim: a proxy forwards what it
// does not understand.
#include <cstdint>
#include <string_view>

namespace junction::sip {

enum class header_id : std::uint8_t {
  other,
  accept,
  allow,
  allow_events,
  authorization,
  call_id,
  contact,
  content_disposition,
  content_encoding,
  content_length,
  content_type,
  cseq,
  date,
  event,
  expires,
  from,
  max_forwards,
  min_expires,
  path,
  proxy_authenticate,
  proxy_authorization,
  proxy_require,
  record_route,
  require,
  route,
  server,
  sip_etag,
  sip_if_match,
  subject,
  subscription_state,
  supported,
  to,
  unsupported,
  user_agent,
  via,
  www_authenticate,
  count_,
};

// Full or compact name, any case. Unknown names give `other`.
header_id lookup_header(std::string_view name) noexcept;

// The canonical spelling ("Call-ID", "CSeq", "WWW-Authenticate"), for headers this server writes.
std::string_view header_name(header_id id) noexcept;

// Headers that may appear at most once (RFC 3261 §7.3.1: those whose grammar is not a comma
// list). A second one makes the request ambiguous (RFC 4475 §3.3.9) and draws a 400.
bool is_single_valued(header_id id) noexcept;

}  // namespace junction::sip
