#pragma once
// The small pieces of RFC 3261 §25's grammar that every SIP header parser shares: character
// classes, linear whitespace, quoted strings, top-level comma lists and ";name=value" parameter
// lists. Everything works on string_views into a message's own buffer and allocates nothing but
// the vectors it is handed.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/ascii.hpp"

namespace junction::sip {

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
bool is_token_char(char c) noexcept;
bool is_token(std::string_view s) noexcept;
inline bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept;
std::string_view trim_left(std::string_view s) noexcept;
using junction::iequals;  // core/ascii.hpp

// Decimal digits only (no sign, no spaces), at most `max`. Leading zeros are fine ("0068").
std::optional<std::uint64_t> parse_decimal(std::string_view digits, std::uint64_t max) noexcept;

// delta-seconds (Expires, Min-Expires, expires params): digits; values past 2^32-1 mean "as
// long as possible" (RFC 3261 §20.19).
std::optional<std::uint32_t> delta_seconds(std::string_view text) noexcept;

// The length of the quoted-string at the start of `s` (which must begin with '"'), quotes and
// quoted-pairs included, or nothing if it never closes.
std::optional<std::size_t> quoted_string_length(std::string_view s) noexcept;

// Splits a header value at the commas that separate list elements: commas inside a
// quoted-string or between '<' and '>' belong to the element. Elements are trimmed. Returns
// false when a quote or an angle bracket never closes, or when there are more than
// `max_items` elements.
// Nearly every list a message carries (Via, Route, Contact) has a few elements: up to eight
// need no allocation.
using list_items = boost::container::small_vector<std::string_view, 8>;
bool split_list(std::string_view value, list_items& out, std::size_t max_items) noexcept;

// One generic-param: `name` alone, or `name = value` where value is a token, a host (IPv6
// references included) or a quoted-string (kept with its quotes).
struct param {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

class param_list {
 public:
  const param* find(std::string_view name) const noexcept;  // case-insensitive
  bool has(std::string_view name) const noexcept { return find(name) != nullptr; }
  std::string_view value(std::string_view name) const noexcept;
  // Most lists hold a tag, a branch or an expires: up to three need no allocation.
  using storage = boost::container::small_vector<param, 3>;
  const storage& items() const noexcept { return items_; }
  storage& items() noexcept { return items_; }

 private:
  storage items_;
};

// Parses `*( SEMI param )` with the optional whitespace RFC 3261 allows around ';' and '='.
// An empty parameter (";;"), a name that is not a token or an unclosed quote is an error.
bool parse_params(std::string_view text, param_list& out, std::size_t max_params) noexcept;

}  // namespace junction::sip
