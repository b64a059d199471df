#pragma once
// Times as text in UTC, for the few places that print them: SIP and HTTP dates, API listings,
// the command line. Header-only so that pure protocol cores can use it without linking the
// runtime.
#include <chrono>
#include <ctime>
#include <string>

namespace junction {

inline constexpr const char* imf_fixdate = "%a, %d %b %Y %H:%M:%S GMT";  // RFC 9110, RFC 3261 Date
inline constexpr const char* iso8601_utc = "%Y-%m-%dT%H:%M:%SZ";

inline std::string format_utc(std::time_t t, const char* pattern) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, pattern, &tm);
  return {buf, n};
}

inline std::string format_utc(std::chrono::system_clock::time_point t, const char* pattern) {
  return format_utc(std::chrono::system_clock::to_time_t(t), pattern);
}

// The IMF-fixdate of `t`'s second, formatted once a second per thread (a shard answers many
// requests within one second, each with a Date header: HTTP's and SIP's).
inline const std::string& imf_date_cached(std::chrono::system_clock::time_point t) {
  thread_local std::time_t second = -1;
  thread_local std::string text;
  const std::time_t now = std::chrono::system_clock::to_time_t(t);
  if (now != second) {
    text = format_utc(now, imf_fixdate);
    second = now;
  }
  return text;
}

}  // namespace junction
