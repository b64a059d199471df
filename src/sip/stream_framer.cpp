#include "sip/stream_framer.hpp"

#include "sip/header_names.hpp"
#include "sip/syntax.hpp"

namespace junction::sip {
namespace {

frame error(std::string_view why) { return frame{frame::kind::error, 0, why}; }

// The Content-Length of a header section (start line included), or -1 when absent, -2 when
// malformed or repeated.
long long content_length(std::string_view section, std::size_t max) {
  long long found = -1;
  while (!section.empty()) {
    std::size_t end = section.find("\r\n");
    std::string_view line = section.substr(0, end);
    section = end == std::string_view::npos ? std::string_view{} : section.substr(end + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.empty() || is_wsp(line.front())) continue;
    if (lookup_header(trim(line.substr(0, colon))) != header_id::content_length) continue;
    std::string_view value = trim(line.substr(colon + 1));
    // A value folded onto the next line is legal but nobody sends it; refusing is safer than
    // guessing where the body starts.
    auto n = parse_decimal(value, max);
    if (!n || found != -1) return -2;
    found = static_cast<long long>(*n);
  }
  return found;
}

}  // namespace

frame find_message(std::string_view buffered, const parse_limits& limits) noexcept {
  if (buffered.starts_with("\r\n\r\n")) return frame{frame::kind::ping, 4, {}};
  if (buffered.starts_with("\r\n")) {
    // A pong, or a stray line end between messages. "\r\n" alone may be the start of a ping.
    if (buffered.size() == 2 || (buffered.size() == 3 && buffered[2] == '\r')) return frame{};
    return frame{frame::kind::skip, 2, {}};
  }
  if (buffered.size() == 1 && buffered.front() == '\r') return frame{};

  std::size_t header_end = buffered.substr(0, limits.max_message).find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    if (buffered.size() >= limits.max_message) return error("header section too large");
    return frame{};
  }
  long long length = content_length(buffered.substr(0, header_end), limits.max_message);
  if (length == -1) return error("Content-Length missing on a stream");
  if (length < 0) return error("bad Content-Length");
  std::size_t total = header_end + 4 + static_cast<std::size_t>(length);
  if (total > limits.max_message) return error("message too large");
  if (buffered.size() < total) return frame{};
  return frame{frame::kind::message, total, {}};
}

}  // namespace junction::sip
