#include "http/http_date.hpp"

#include <cstring>

#include "core/utc_time.hpp"

namespace junction::http {

std::string format_http_date(std::time_t t) { return format_utc(t, imf_fixdate); }

std::optional<std::time_t> parse_http_date(std::string_view text) {
  if (text.size() >= 64) return std::nullopt;
  char buf[64];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  std::tm tm{};
  const char* end = strptime(buf, imf_fixdate, &tm);
  if (!end || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

std::string_view http_date_now() { return imf_date_cached(std::chrono::system_clock::now()); }

}  // namespace junction::http
