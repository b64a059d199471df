#include "http/range.hpp"

#include <charconv>
#include <optional>

namespace junction::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || err != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

byte_range parse_byte_range(std::string_view header, std::uint64_t size) {
  byte_range whole;
  header = trim(header);
  constexpr std::string_view unit = "bytes=";
  if (header.size() < unit.size()) return whole;
  for (std::size_t i = 0; i < unit.size(); ++i)
    if ((header[i] | 0x20) != unit[i] && header[i] != unit[i]) return whole;
  auto spec = trim(header.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: serve whole
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;  // malformed: ignored, as the RFC allows
  auto first_text = trim(spec.substr(0, dash));
  auto last_text = trim(spec.substr(dash + 1));

  byte_range r;
  r.outcome = byte_range::kind::partial;
  if (first_text.empty()) {
    // "-N": the last N bytes.
    auto suffix = number(last_text);
    if (!suffix) return whole;
    if (*suffix == 0 || size == 0) return {byte_range::kind::unsatisfiable};
    r.first = *suffix >= size ? 0 : size - *suffix;
    r.last = size - 1;
    return r;
  }
  auto first = number(first_text);
  if (!first) return whole;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto parsed = number(last_text);
    if (!parsed || *parsed < *first) return whole;
    last = std::min(*parsed, last);
  }
  if (*first >= size) return {byte_range::kind::unsatisfiable};
  r.first = *first;
  r.last = last;
  return r;
}

}  // namespace junction::http
