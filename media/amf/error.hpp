#pragma once
// What the AMF decoders refuse, the limits behind the refusals, and the bookkeeping that
// enforces those limits for one decode call. Errors are an error_code category: the decoders sit
// on the data path and never throw. The limits exist because every count and length in AMF is
// chosen by the peer, and references let a few bytes stand for copies of large values.
#include "media/amf/value.hpp"

#include <cstddef>
#include <system_error>
#include <type_traits>

namespace junction::media::amf {

enum class amf_errc {
  truncated = 1,     // the bytes end inside a value
  unknown_marker,    // a type marker AMF does not define, or one that is not valid where it sits
  too_deep,          // objects/arrays nested deeper than decode_limits::max_depth
  too_many_values,   // more values than decode_limits::max_values, copies included
  string_too_long,   // one string, XML text or byte array longer than decode_limits::max_string
  too_many_items,    // an array/vector/dictionary/traits declares more than max_items elements
  too_many_bytes,    // all text together exceeds decode_limits::max_total_bytes, copies included
  bad_reference,     // a reference to a string, object or traits entry never decoded
  cyclic_reference,  // a reference to an object that is still being decoded
  unsupported_type,  // movieclip, recordset, or an externalizable AMF3 class
};

const std::error_category& amf_category() noexcept;
std::error_code make_error_code(amf_errc e) noexcept;

// Hard limits for one decode call. The defaults pass any real command or metadata message (an
// RTMP message body is at most 16 MiB) and bound what a hostile one can make us allocate.
struct decode_limits {
  std::size_t max_depth = 32;        // nesting of objects/arrays/vectors/dictionaries
  std::size_t max_values = 65536;    // values produced, counting copies made by references
  std::size_t max_string = 1 << 20;  // one string, XML text, byte array, member or class name
  std::size_t max_items = 1 << 20;   // declared element count of one array/vector/dictionary
  // All text produced (strings, XML, byte arrays, member and class names), counting copies made
  // by references: without it, 65536 references to one 1 MiB string would ask for 64 GiB.
  std::size_t max_total_bytes = 16 << 20;
};

namespace detail {

// Counts what one decode call has produced against its limits. One budget spans an AMF0 decode
// and the AMF3 values it switches to (marker 0x11), so a switch cannot reset the count.
class decode_budget {
 public:
  explicit decode_budget(const decode_limits& limits) noexcept : limits_(limits) {}

  const decode_limits& limits() const noexcept { return limits_; }
  std::size_t depth() const noexcept { return depth_; }

  // One more value in the output.
  std::error_code add_value() noexcept;
  // `n` more bytes of text in the output.
  std::error_code add_bytes(std::size_t n) noexcept;
  // A string/XML/byte array of `n` bytes is about to be read.
  std::error_code check_string(std::size_t n) noexcept;
  // A container declares `count` elements, each at least `min_bytes` long on the wire and each
  // producing at least `min_values` values; checked before anything is reserved for them.
  std::error_code check_count(std::size_t count, std::size_t min_bytes, std::size_t min_values,
                              std::size_t remaining_bytes) const noexcept;
  // Entering and leaving an object/array/vector/dictionary.
  std::error_code enter() noexcept;
  void leave() noexcept { --depth_; }
  // A reference is about to copy `v` (whose own node is already counted) at the current depth:
  // counts its text, every value below it and its nesting, so a copy cannot break a limit that
  // the same value written out inline would have broken.
  std::error_code add_copy(const value& v) noexcept { return add_copy(v, depth_); }

 private:
  std::error_code add_copy(const value& v, std::size_t depth) noexcept;

  const decode_limits& limits_;
  std::size_t depth_ = 0;
  std::size_t values_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace detail
}  // namespace junction::media::amf

template <>
struct std::is_error_code_enum<junction::media::amf::amf_errc> : std::true_type {};
