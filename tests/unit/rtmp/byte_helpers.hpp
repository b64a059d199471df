#pragma once
// Byte-vector helpers shared by the RTMP protocol tests.
#include "core/shared_buffer.hpp"

#include <cctype>
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace junction::rtmp::rtmp_test {

using bytes = std::vector<std::byte>;

// "03 000064 0a" -> bytes; spaces are for reading only.
inline bytes hex(std::string_view text) {
  bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ' ') continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(std::byte(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

inline bytes text(std::string_view s) {
  bytes out;
  for (char c : s) out.push_back(std::byte(c));
  return out;
}

// A recognizable payload: byte i is (i * 7 + seed) & 0xFF.
inline bytes pattern(std::size_t n, int seed = 1) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte((i * 7 + seed) & 0xFF);
  return out;
}

inline bytes slice(const bytes& b, std::size_t from, std::size_t to) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(to));
}

inline bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline bytes to_bytes(const shared_buffer& b) { return bytes(b.bytes().begin(), b.bytes().end()); }

}  // namespace junction::rtmp::rtmp_test
