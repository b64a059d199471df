// AMF0 codec. Section numbers refer to Adobe's "Action Message Format -- AMF 0" (2007).
#include "media/amf/amf0.hpp"

#include "media/amf/amf3.hpp"
#include "media/amf/reader.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <string_view>

namespace junction::media::amf {
namespace {

// Type markers (section 2.1).
namespace marker {
constexpr std::uint8_t number = 0x00;
constexpr std::uint8_t boolean = 0x01;
constexpr std::uint8_t string = 0x02;
constexpr std::uint8_t object = 0x03;
constexpr std::uint8_t movieclip = 0x04;
constexpr std::uint8_t null = 0x05;
constexpr std::uint8_t undefined = 0x06;
constexpr std::uint8_t reference = 0x07;
constexpr std::uint8_t ecma_array = 0x08;
constexpr std::uint8_t object_end = 0x09;
constexpr std::uint8_t strict_array = 0x0A;
constexpr std::uint8_t date = 0x0B;
constexpr std::uint8_t long_string = 0x0C;
constexpr std::uint8_t unsupported = 0x0D;
constexpr std::uint8_t recordset = 0x0E;
constexpr std::uint8_t xml_document = 0x0F;
constexpr std::uint8_t typed_object = 0x10;
constexpr std::uint8_t avmplus_object = 0x11;
}  // namespace marker

constexpr std::size_t short_string_max = 0xFFFF;

using detail::location;
using detail::no_parent;
using detail::reader;
using detail::table_entry;


class decoder {
 public:
  decoder(reader& in, std::vector<value>& roots, std::size_t base, detail::decode_budget& budget)
      : in_(in), roots_(roots), base_(base), budget_(budget) {}

  // Decodes into `out`, which sits at `at`. Recursion is bounded by the depth limit: every
  // nested call passes through decode_members or decode_strict_array, which enter a level.
  std::error_code decode(value& out, location at) {
    std::uint8_t m = 0;
    if (auto ec = in_.u8(m)) return ec;
    if (m == marker::avmplus_object) return decode_amf3(out);
    if (auto ec = budget_.add_value()) return ec;
    switch (m) {
      case marker::number: out.type = type::number; return in_.f64(out.number);
      case marker::boolean: {
        std::uint8_t b = 0;
        if (auto ec = in_.u8(b)) return ec;
        out.type = type::boolean;
        out.flag = b != 0;
        return {};
      }
      case marker::string: {
        std::uint16_t n = 0;
        if (auto ec = in_.u16(n)) return ec;
        out.type = type::string;
        return read_text(n, out.text);
      }
      case marker::long_string: {
        std::uint32_t n = 0;
        if (auto ec = in_.u32(n)) return ec;
        out.type = type::string;
        return read_text(n, out.text);
      }
      case marker::xml_document: {
        std::uint32_t n = 0;
        if (auto ec = in_.u32(n)) return ec;
        out.type = type::xml;
        out.flag = true;  // an XMLDocument, as AMF3 marker 0x07 is
        return read_text(n, out.text);
      }
      case marker::object: out.type = type::object; return decode_members(out, at);
      case marker::typed_object: {
        std::uint16_t n = 0;
        if (auto ec = in_.u16(n)) return ec;
        if (auto ec = read_text(n, out.text)) return ec;
        out.type = type::object;
        return decode_members(out, at);
      }
      case marker::ecma_array: {
        std::uint32_t count_hint = 0;  // not trusted: the object-end marker ends the array
        if (auto ec = in_.u32(count_hint)) return ec;
        out.type = type::ecma_array;
        return decode_members(out, at);
      }
      case marker::strict_array: return decode_strict_array(out, at);
      case marker::date: {
        std::uint16_t zone = 0;  // section 2.13: reserved, "should be 0x0000"; kept as sent
        if (auto ec = in_.f64(out.number)) return ec;
        if (auto ec = in_.u16(zone)) return ec;
        out.type = type::date;
        out.integer = static_cast<std::int16_t>(zone);
        return {};
      }
      case marker::null: out.type = type::null; return {};
      case marker::undefined:
      case marker::unsupported: out.type = type::undefined; return {};
      case marker::reference: {
        std::uint16_t index = 0;
        if (auto ec = in_.u16(index)) return ec;
        return copy_reference(index, out);
      }
      case marker::movieclip:
      case marker::recordset: return amf_errc::unsupported_type;
      default: return amf_errc::unknown_marker;  // includes object-end where a value belongs
    }
  }

 private:
  // Section 3.1: one AMF3 value follows. Its node is counted by the AMF3 decoder, not here, so
  // that re-encoding the value either way counts the same.
  std::error_code decode_amf3(value& out) {
    auto rest = in_.rest();
    const std::size_t before = rest.size();
    if (auto ec = detail::decode_amf3_switched(rest, out, budget_)) return ec;
    in_.skip(before - rest.size());
    return {};
  }

  std::error_code read_text(std::size_t n, std::string& out) {
    std::string_view text;
    if (auto ec = budget_.check_string(n)) return ec;
    if (auto ec = in_.text(n, text)) return ec;
    if (auto ec = budget_.add_bytes(n)) return ec;
    out.assign(text);
    return {};
  }

  // Sections 2.5, 2.10, 2.18: (UTF-8 name, value) pairs up to an empty name and object-end.
  std::error_code decode_members(value& out, location at) {
    const std::size_t self = add_entry(at);
    if (auto ec = budget_.enter()) return ec;
    for (;;) {
      std::uint16_t n = 0;
      if (auto ec = in_.u16(n)) return ec;
      if (n == 0) {
        std::uint8_t end = 0;
        if (auto ec = in_.u8(end)) return ec;
        if (end != marker::object_end) return amf_errc::unknown_marker;
        break;
      }
      member& m = out.members.emplace_back();
      if (auto ec = read_text(n, m.name)) return ec;
      if (auto ec = decode(m.value, {self, false, out.members.size() - 1})) return ec;
    }
    budget_.leave();
    table_[self].complete = true;
    return {};
  }

  // Section 2.12: u32 count, then that many values.
  std::error_code decode_strict_array(value& out, location at) {
    std::uint32_t count = 0;
    if (auto ec = in_.u32(count)) return ec;
    if (auto ec = budget_.check_count(count, 1, 1, in_.remaining())) return ec;
    out.type = type::strict_array;
    const std::size_t self = add_entry(at);
    if (auto ec = budget_.enter()) return ec;
    out.items.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
      if (auto ec = decode(out.items.emplace_back(), {self, true, i})) return ec;
    budget_.leave();
    table_[self].complete = true;
    return {};
  }

  // Section 2.9: a u16 index into the complex values decoded so far.
  std::error_code copy_reference(std::size_t index, value& out) {
    if (index >= table_.size()) return amf_errc::bad_reference;
    if (!table_[index].complete) return amf_errc::cyclic_reference;
    const value& source = resolve(index);
    if (auto ec = budget_.add_copy(source)) return ec;
    out = source;
    return {};
  }

  std::size_t add_entry(location at) {
    table_.push_back({at, false});
    return table_.size() - 1;
  }

  // Recursion follows the entry's nesting, which the depth limit bounds.
  value& resolve(std::size_t entry) {
    const location at = table_[entry].at;
    if (at.parent == no_parent) return roots_[base_ + at.index];
    value& parent = resolve(at.parent);
    return at.in_items ? parent.items[at.index] : parent.members[at.index].value;
  }

  reader& in_;
  std::vector<value>& roots_;
  std::size_t base_;
  detail::decode_budget& budget_;
  std::vector<table_entry> table_;
};

class writer {
 public:
  explicit writer(std::vector<std::byte>& out) noexcept : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(std::uint16_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void f64(double v) { put(std::bit_cast<std::uint64_t>(v)); }
  void raw(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
  }
  std::vector<std::byte>& bytes() noexcept { return out_; }

 private:
  template <typename T>
  void put(T v) {
    for (std::size_t i = sizeof(T); i-- > 0;)
      out_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
  }
  std::vector<std::byte>& out_;
};

bool fits_amf0_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= short_string_max;
}

// Whether `v` itself (not its children) needs the AVM+ switch.
bool needs_amf3(const value& v) noexcept {
  switch (v.type) {
    case type::integer:
    case type::byte_array:
    case type::vector_int:
    case type::vector_uint:
    case type::vector_double:
    case type::vector_object:
    case type::dictionary: return true;
    case type::xml: return !v.flag;  // AMF0 has XMLDocument only
    case type::object:
      return v.text.size() > short_string_max ||
             !std::all_of(v.members.begin(), v.members.end(),
                          [](const member& m) { return fits_amf0_name(m.name); });
    case type::ecma_array:
      return !v.items.empty() ||
             std::any_of(v.members.begin(), v.members.end(),
                         [](const member& m) { return m.name.size() > short_string_max; });
    default: return false;
  }
}

void encode(writer& w, const value& v);

void encode_members(writer& w, const value& v) {
  for (const auto& m : v.members) {
    if (m.name.empty()) continue;  // an empty name would end the object early
    w.u16(static_cast<std::uint16_t>(m.name.size()));
    w.raw(m.name);
    encode(w, m.value);
  }
  w.u16(0);
  w.u8(marker::object_end);
}

std::uint32_t clamp_u32(std::size_t n) noexcept {
  return static_cast<std::uint32_t>(std::min<std::size_t>(n, 0xFFFFFFFF));
}

void encode(writer& w, const value& v) {
  if (needs_amf3(v)) {
    w.u8(marker::avmplus_object);
    encode_amf3(v, w.bytes());
    return;
  }
  switch (v.type) {
    case type::undefined: w.u8(marker::undefined); return;
    case type::null: w.u8(marker::null); return;
    case type::boolean:
      w.u8(marker::boolean);
      w.u8(v.flag ? 1 : 0);
      return;
    case type::number:
      w.u8(marker::number);
      w.f64(v.number);
      return;
    case type::string:
      if (v.text.size() <= short_string_max) {
        w.u8(marker::string);
        w.u16(static_cast<std::uint16_t>(v.text.size()));
        w.raw(v.text);
      } else {
        const std::uint32_t n = clamp_u32(v.text.size());
        w.u8(marker::long_string);
        w.u32(n);
        w.raw(std::string_view{v.text}.substr(0, n));
      }
      return;
    case type::xml: {
      const std::uint32_t n = clamp_u32(v.text.size());
      w.u8(marker::xml_document);
      w.u32(n);
      w.raw(std::string_view{v.text}.substr(0, n));
      return;
    }
    case type::date:
      w.u8(marker::date);
      w.f64(v.number);
      w.u16(static_cast<std::uint16_t>(
          std::clamp<std::int32_t>(v.integer, std::numeric_limits<std::int16_t>::min(),
                                   std::numeric_limits<std::int16_t>::max())));
      return;
    case type::object:
      if (v.text.empty()) {
        w.u8(marker::object);
      } else {
        w.u8(marker::typed_object);
        w.u16(static_cast<std::uint16_t>(v.text.size()));
        w.raw(v.text);
      }
      encode_members(w, v);
      return;
    case type::ecma_array: {
      const auto named = std::count_if(v.members.begin(), v.members.end(),
                                       [](const member& m) { return !m.name.empty(); });
      w.u8(marker::ecma_array);
      w.u32(clamp_u32(static_cast<std::size_t>(named)));
      encode_members(w, v);
      return;
    }
    case type::strict_array: {
      const std::uint32_t n = clamp_u32(v.items.size());
      w.u8(marker::strict_array);
      w.u32(n);
      for (std::size_t i = 0; i < n; ++i) encode(w, v.items[i]);
      return;
    }
    default: return;  // the AMF3-only types were handled above
  }
}

}  // namespace

std::error_code decode_amf0(std::span<const std::byte> bytes, std::vector<value>& out,
                            const decode_limits& limits) {
  const std::size_t base = out.size();
  reader in(bytes);
  detail::decode_budget budget(limits);
  decoder d(in, out, base, budget);
  while (in.remaining() > 0) {
    out.emplace_back();
    if (auto ec = d.decode(out.back(), {no_parent, false, out.size() - 1 - base})) {
      out.resize(base);
      return ec;
    }
  }
  return {};
}

std::error_code decode_amf0_value(std::span<const std::byte>& bytes, value& out,
                                  const decode_limits& limits) {
  std::vector<value> roots(1);
  reader in(bytes);
  detail::decode_budget budget(limits);
  decoder d(in, roots, 0, budget);
  if (auto ec = d.decode(roots[0], {no_parent, false, 0})) return ec;
  out = std::move(roots[0]);
  bytes = bytes.subspan(in.consumed());
  return {};
}

void encode_amf0(const value& v, std::vector<std::byte>& out) {
  writer w(out);
  encode(w, v);
}

}  // namespace junction::media::amf
