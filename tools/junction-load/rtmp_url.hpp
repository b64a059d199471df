#pragma once
// rtmp://HOST[:PORT]/APP/STREAM as users type it, and the names a run publishes and plays.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::load {

struct rtmp_url {
  std::string host;  // a name or a numeric address, without IPv6 brackets
  std::uint16_t port = 1935;
  std::string app;     // may hold slashes ("live/sub"): everything before the last segment
  std::string stream;  // the last path segment, with any "?query" (tokens travel there)

  // nullopt (with a reason in *why) when `text` is not rtmp://host[:port]/app/stream.
  static std::optional<rtmp_url> parse(std::string_view text, std::string* why = nullptr);
  // rtmp://host[:port]/app: what connect's tcUrl carries.
  std::string tc_url() const;
  std::string to_string() const;  // the URL back, normalized
};

// The stream names of a run: STREAM alone for one publisher (or none: playing an existing
// stream), STREAM-0 .. STREAM-(M-1) for M > 1. A query stays at the end: "s?k=v" -> "s-0?k=v".
std::vector<std::string> stream_names(std::string_view stream, unsigned publishers);

}  // namespace junction::load
