#pragma once
// What the AMF0 and AMF3 decoders share: a bounds-checked big-endian reader, and the links by
// which reference tables point at values already decoded. Internal to amf0.cpp and amf3.cpp.
#include "media/amf/error.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace junction::media::amf::detail {

// Big-endian reads that never pass the end of the span.
class reader {
 public:
  explicit reader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  std::size_t consumed() const noexcept { return pos_; }
  std::span<const std::byte> rest() const noexcept { return bytes_.subspan(pos_); }
  void skip(std::size_t n) noexcept { pos_ += n; }

  std::error_code u8(std::uint8_t& v) noexcept { return read(v); }
  std::error_code u16(std::uint16_t& v) noexcept { return read(v); }
  std::error_code u32(std::uint32_t& v) noexcept { return read(v); }
  std::error_code f64(double& v) noexcept {
    std::uint64_t bits = 0;
    if (auto ec = read(bits)) return ec;
    v = std::bit_cast<double>(bits);
    return {};
  }
  // Section 1.3.1: 7 bits in each of up to three bytes whose high bit says "more", then all 8
  // bits of a fourth.
  std::error_code u29(std::uint32_t& v) noexcept {
    std::uint32_t x = 0;
    for (int i = 0; i < 4; ++i) {
      std::uint8_t b = 0;
      if (auto ec = u8(b)) return ec;
      if (i == 3) {
        v = (x << 8) | b;
        return {};
      }
      x = (x << 7) | (b & 0x7F);
      if ((b & 0x80) == 0) break;
    }
    v = x;
    return {};
  }
  std::error_code text(std::size_t n, std::string_view& v) noexcept {
    if (remaining() < n) return amf_errc::truncated;
    v = {reinterpret_cast<const char*>(bytes_.data() + pos_), n};
    pos_ += n;
    return {};
  }

 private:
  template <typename T>
  std::error_code read(T& v) noexcept {
    if (remaining() < sizeof(T)) return amf_errc::truncated;
    T x = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      x = static_cast<T>((x << 8) | std::to_integer<std::uint8_t>(bytes_[pos_ + i]));
    pos_ += sizeof(T);
    v = x;
    return {};
  }

  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

inline constexpr std::size_t no_parent = static_cast<std::size_t>(-1);

// Where a value sits in the output: child `index` of the container that is reference-table entry
// `parent`, or a top-level value (AMF0: top-level value `index`; AMF3: the root) when there is
// no parent. References resolve by following these links from the top, so the table holds no
// pointer that a growing vector could move.
struct location {
  std::size_t parent = no_parent;
  bool in_items = false;
  std::size_t index = 0;
};

struct table_entry {
  location at;
  bool complete = false;  // a reference to an incomplete entry would be a cycle
};

}  // namespace junction::media::amf::detail
