#include "media/amf/error.hpp"

#include <string>

namespace junction::media::amf {
namespace {

class amf_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "amf"; }
  std::string message(int ev) const override {
    switch (static_cast<amf_errc>(ev)) {
      case amf_errc::truncated: return "AMF data ends in the middle of a value";
      case amf_errc::unknown_marker: return "AMF type marker unknown or not valid where it sits";
      case amf_errc::too_deep: return "AMF nesting deeper than the limit (32 levels by default)";
      case amf_errc::too_many_values:
        return "AMF data holds more values than the limit (65536 by default), counting copies "
               "made by references";
      case amf_errc::string_too_long:
        return "AMF string, XML or byte array longer than the limit (1 MiB by default)";
      case amf_errc::too_many_items:
        return "AMF array, vector, dictionary or traits declares more elements than the limit "
               "(1048576 by default)";
      case amf_errc::too_many_bytes:
        return "AMF text adds up to more than the limit (16 MiB by default), counting copies made "
               "by references";
      case amf_errc::bad_reference: return "AMF reference to a value that was never decoded";
      case amf_errc::cyclic_reference:
        return "AMF reference to an object that is still being decoded (a cycle)";
      case amf_errc::unsupported_type:
        return "AMF type not supported (movieclip, recordset or externalizable class)";
    }
    return "unknown AMF error";
  }
};

// The types whose decoding enters a nesting level (decode_budget::enter).
bool is_container(type t) noexcept {
  switch (t) {
    case type::object:
    case type::ecma_array:
    case type::strict_array:
    case type::vector_int:
    case type::vector_uint:
    case type::vector_double:
    case type::vector_object:
    case type::dictionary: return true;
    default: return false;
  }
}

}  // namespace

const std::error_category& amf_category() noexcept {
  static const amf_category_impl category;
  return category;
}

std::error_code make_error_code(amf_errc e) noexcept {
  return {static_cast<int>(e), amf_category()};
}

namespace detail {

std::error_code decode_budget::add_value() noexcept {
  if (values_ >= limits_.max_values) return amf_errc::too_many_values;
  ++values_;
  return {};
}

std::error_code decode_budget::add_bytes(std::size_t n) noexcept {
  if (n > limits_.max_total_bytes - bytes_) return amf_errc::too_many_bytes;
  bytes_ += n;
  return {};
}

std::error_code decode_budget::check_string(std::size_t n) noexcept {
  return n > limits_.max_string ? make_error_code(amf_errc::string_too_long) : std::error_code{};
}

std::error_code decode_budget::check_count(std::size_t count, std::size_t min_bytes,
                                           std::size_t min_values,
                                           std::size_t remaining_bytes) const noexcept {
  if (count > limits_.max_items) return amf_errc::too_many_items;
  // Reserving for a count the budget cannot satisfy would allocate for nothing.
  if (count > (limits_.max_values - values_) / min_values) return amf_errc::too_many_values;
  if (count > remaining_bytes / min_bytes) return amf_errc::truncated;
  return {};
}

std::error_code decode_budget::enter() noexcept {
  if (depth_ >= limits_.max_depth) return amf_errc::too_deep;
  ++depth_;
  return {};
}

// Recursion is bounded: `v` was decoded under the same depth limit.
std::error_code decode_budget::add_copy(const value& v, std::size_t depth) noexcept {
  if (auto ec = add_bytes(v.text.size())) return ec;
  if (!is_container(v.type)) return {};
  if (++depth > limits_.max_depth) return amf_errc::too_deep;
  for (const auto& m : v.members) {
    if (auto ec = add_value()) return ec;
    if (auto ec = add_bytes(m.name.size())) return ec;
    if (auto ec = add_copy(m.value, depth)) return ec;
  }
  for (const auto& item : v.items) {
    if (auto ec = add_value()) return ec;
    if (auto ec = add_copy(item, depth)) return ec;
  }
  return {};
}

}  // namespace detail
}  // namespace junction::media::amf
