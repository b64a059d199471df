#pragma once
// The Range request header (RFC 9110 §14.2), for one range of bytes. A request for several
// ranges is served whole (the RFC lets a server ignore Range), which every client handles.
#include <cstdint>
#include <string_view>

namespace junction::http {

struct byte_range {
  enum class kind {
    whole,          // no usable Range: send the whole representation with 200
    partial,        // send [first, last] with 206
    unsatisfiable,  // 416 with "Content-Range: bytes */size"
  };
  kind outcome = kind::whole;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};

// `header` is the Range field's value; `size` the representation's length.
byte_range parse_byte_range(std::string_view header, std::uint64_t size);

}  // namespace junction::http
