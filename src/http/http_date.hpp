#pragma once
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace junction::http {

// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t t);
std::optional<std::time_t> parse_http_date(std::string_view text);
// The current time as an HTTP date, formatted at most once a second per thread.
std::string_view http_date_now();

}  // namespace junction::http
