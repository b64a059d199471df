#pragma once
// Where one SIP message ends on a stream (TCP, TLS): RFC 3261 §18.3. Content-Length is
// mandatory there, so the framer reads only that header; parsing is `parse_message`'s job.
// Also recognises RFC 5626 §4.4.1 keepalives: a CRLFCRLF ping (answered with a CRLF pong) and
// the lone CRLFs between messages.
#include <cstddef>
#include <string_view>

#include "sip/parser.hpp"

namespace junction::sip {

struct frame {
  enum class kind { need_more, message, ping, skip, error };
  kind what = kind::need_more;
  std::size_t size = 0;     // bytes of the input this frame covers
  std::string_view reason;  // for errors: why the stream cannot be trusted any more
};

// Looks at the start of `buffered` only; call again after consuming `size` bytes.
frame find_message(std::string_view buffered, const parse_limits& limits) noexcept;

}  // namespace junction::sip
