#pragma once
// Parses one SIP message (RFC 3261 §7 and §25) already framed: a whole UDP datagram, or what
// `find_message` cut from a stream. Checks what RFC 4475 expects a server to check and says
// which answer the failure deserves: 400 with a reason, 505 for another SIP version, 513 for
// an oversized message, or none (responses and unreadable bytes are dropped).
#include <cstddef>
#include <optional>
#include <string_view>

#include "sip/message.hpp"
#include "sip/parse_error.hpp"

namespace junction::sip {

struct parse_limits {
  std::size_t max_message = 65535;  // bytes, start line to end of body
  std::size_t max_headers = 128;    // header fields
  std::size_t max_line = 8192;      // one header field after unfolding
  std::size_t max_list_items = 70;  // Via/Contact/Route elements: 70 hops is Max-Forwards' usual start
};

struct parse_result {
  std::optional<message> msg;  // set when the start line and header fields could be read
  std::error_code error;       // why the message is refused (category "sip.parse"), or none
  bool ok() const noexcept { return !error && msg.has_value(); }
  // A malformed request still gets its 400 (built from the headers it has); a malformed
  // response, or bytes that are not a SIP message at all, get nothing.
  bool answerable() const noexcept { return error && msg && msg->is_request(); }
  // The answer a refused request deserves (400, 505, 513) and its reason phrase.
  int status() const noexcept { return answer_status(error); }
  std::string_view reason() const noexcept { return answer_reason(error); }
};

// `datagram`: the bytes are a whole UDP datagram, so a missing Content-Length means "the rest"
// and one larger than what is there is a 400 (RFC 3261 §18.3, RFC 4475 §3.1.2.2). On a stream
// `find_message` has already cut exactly one message.
parse_result parse_message(std::string_view bytes, const parse_limits& limits, bool datagram);

}  // namespace junction::sip
