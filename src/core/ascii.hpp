#pragma once
// Case-insensitive comparison of protocol tokens (SIP and SDP names, HTTP headers, domains):
// ASCII only, as the RFCs define it, whatever the locale.
#include <algorithm>
#include <string_view>

namespace junction {

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Whether `haystack` contains `needle`, ignoring ASCII case.
constexpr bool icontains(std::string_view haystack, std::string_view needle) noexcept {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) { return ascii_lower(x) == ascii_lower(y); }) != haystack.end();
}

}  // namespace junction
