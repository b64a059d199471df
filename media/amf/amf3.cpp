// AMF3 codec. Section numbers refer to Adobe's "Action Message Format -- AMF 3" (2008).
#include "media/amf/amf3.hpp"

#include "media/amf/reader.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace junction::media::amf {
namespace {

// Type markers (section 3.1).
namespace marker {
constexpr std::uint8_t undefined = 0x00;
constexpr std::uint8_t null = 0x01;
constexpr std::uint8_t false_ = 0x02;
constexpr std::uint8_t true_ = 0x03;
constexpr std::uint8_t integer = 0x04;
constexpr std::uint8_t double_ = 0x05;
constexpr std::uint8_t string = 0x06;
constexpr std::uint8_t xml_document = 0x07;
constexpr std::uint8_t date = 0x08;
constexpr std::uint8_t array = 0x09;
constexpr std::uint8_t object = 0x0A;
constexpr std::uint8_t xml = 0x0B;
constexpr std::uint8_t byte_array = 0x0C;
constexpr std::uint8_t vector_int = 0x0D;
constexpr std::uint8_t vector_uint = 0x0E;
constexpr std::uint8_t vector_double = 0x0F;
constexpr std::uint8_t vector_object = 0x10;
constexpr std::uint8_t dictionary = 0x11;
}  // namespace marker

// Section 1.3.1: U29 holds 29 bits; lengths and indices share it with one or more flag bits.
constexpr std::uint32_t u29_max = (1u << 29) - 1;
constexpr std::int32_t integer_min = -(1 << 28);
constexpr std::int32_t integer_max = (1 << 28) - 1;

// Flex classes whose externalized form is a single AMF3 value (their writeExternal writes the
// wrapped array/object); every other externalizable class has a private format.
constexpr std::string_view array_collection = "flex.messaging.io.ArrayCollection";
constexpr std::string_view object_proxy = "flex.messaging.io.ObjectProxy";

using detail::location;
using detail::no_parent;
using detail::reader;
using detail::table_entry;


// Section 3.12: traits are class name, sealed member names and two flags. Names are views into
// the input, which outlives the decode; they are copied only into values, where they are counted.
struct traits {
  std::string_view class_name;
  std::vector<std::string_view> sealed;
  bool dynamic = false;
  bool externalizable = false;
};

class decoder {
 public:
  decoder(reader& in, value& root, detail::decode_budget& budget)
      : in_(in), root_(root), budget_(budget) {}

  // Decodes into `out`, which sits at `at`. Recursion is bounded by the depth limit: every
  // nested call passes through a container, which enters a level.
  std::error_code decode(value& out, location at) {
    std::uint8_t m = 0;
    if (auto ec = in_.u8(m)) return ec;
    if (auto ec = budget_.add_value()) return ec;
    switch (m) {
      case marker::undefined: out.type = type::undefined; return {};
      case marker::null: out.type = type::null; return {};
      case marker::false_:
      case marker::true_:
        out.type = type::boolean;
        out.flag = m == marker::true_;
        return {};
      case marker::integer: {
        std::uint32_t u = 0;
        if (auto ec = in_.u29(u)) return ec;
        out.type = type::integer;  // section 3.6: sign-extend the 29 bits
        out.integer = (u & 0x10000000) ? static_cast<std::int32_t>(u) - (1 << 29)
                                       : static_cast<std::int32_t>(u);
        return {};
      }
      case marker::double_: out.type = type::number; return in_.f64(out.number);
      case marker::string: {
        std::string_view s;
        if (auto ec = read_string(s)) return ec;
        out.type = type::string;
        return take_text(s, out.text);
      }
      default: break;
    }
    // Everything else starts with a U29 whose low bit 0 means "reference to object table entry
    // (U29 >> 1)"; low bit 1 leaves 28 bits that the type interprets.
    if (m < marker::xml_document || m > marker::dictionary) return amf_errc::unknown_marker;
    std::uint32_t header = 0;
    if (auto ec = in_.u29(header)) return ec;
    if ((header & 1) == 0) return copy_reference(header >> 1, out);
    const std::uint32_t bits = header >> 1;
    switch (m) {
      case marker::xml_document:
      case marker::xml:
        out.type = type::xml;
        out.flag = m == marker::xml_document;
        return read_blob(bits, out, at);
      case marker::byte_array: out.type = type::byte_array; return read_blob(bits, out, at);
      case marker::date:
        out.type = type::date;  // section 3.7: the remaining header bits are unused
        if (auto ec = in_.f64(out.number)) return ec;
        add_entry(at, true);
        return {};
      case marker::array: return decode_array(bits, out, at);
      case marker::object: return decode_object(bits, out, at);
      case marker::dictionary: return decode_dictionary(bits, out, at);
      default: return decode_vector(m, bits, out, at);
    }
  }

 private:
  // Section 1.3.2 (UTF-8-vr): low bit 0 is a string-table reference; otherwise a length and
  // bytes, which join the table unless empty.
  std::error_code read_string(std::string_view& s) {
    std::uint32_t header = 0;
    if (auto ec = in_.u29(header)) return ec;
    if ((header & 1) == 0) {
      const std::size_t index = header >> 1;
      if (index >= strings_.size()) return amf_errc::bad_reference;
      s = strings_[index];
      return {};
    }
    if (auto ec = budget_.check_string(header >> 1)) return ec;
    if (auto ec = in_.text(header >> 1, s)) return ec;
    if (!s.empty()) strings_.push_back(s);
    return {};
  }

  std::error_code take_text(std::string_view s, std::string& out) {
    if (auto ec = budget_.add_bytes(s.size())) return ec;
    out.assign(s);
    return {};
  }

  // XML and byte arrays (sections 3.9, 3.13, 3.14): a length and bytes, in the object table.
  std::error_code read_blob(std::size_t n, value& out, location at) {
    std::string_view s;
    if (auto ec = budget_.check_string(n)) return ec;
    if (auto ec = in_.text(n, s)) return ec;
    add_entry(at, true);
    return take_text(s, out.text);
  }

  // Section 3.10: dense count, then (name, value) pairs up to an empty name, then the dense
  // values. The array is in the object table before its elements are.
  std::error_code decode_array(std::size_t count, value& out, location at) {
    if (auto ec = budget_.check_count(count, 1, 1, in_.remaining())) return ec;
    const std::size_t self = add_entry(at, false);
    if (auto ec = budget_.enter()) return ec;
    if (auto ec = decode_named_members(out, self)) return ec;
    out.type = out.members.empty() ? type::strict_array : type::ecma_array;
    out.items.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
      if (auto ec = decode(out.items.emplace_back(), {self, true, i})) return ec;
    return finish(self);
  }

  // Section 3.12: U29O-traits-ref (bits xx0), U29O-traits-ext (bits 011), or inline traits
  // (bits d01: sealed count in the rest, d = dynamic), each after the header's reference bit.
  std::error_code decode_object(std::uint32_t bits, value& out, location at) {
    std::size_t t = 0;
    if ((bits & 1) == 0) {
      t = bits >> 1;
      if (t >= traits_.size()) return amf_errc::bad_reference;
    } else if (auto ec = read_traits(bits, t)) {
      return ec;
    }
    const std::size_t self = add_entry(at, false);
    // The wrapper of an externalizable object enters a level even though it leaves no node:
    // nested wrappers cost 3 bytes each and would otherwise recurse without bound.
    if (auto ec = budget_.enter()) return ec;
    if (traits_[t].externalizable) {
      const auto name = traits_[t].class_name;
      if (name != array_collection && name != object_proxy) return amf_errc::unsupported_type;
      if (auto ec = decode(out, at)) return ec;
      return finish(self);
    }
    out.type = type::object;
    if (auto ec = take_text(traits_[t].class_name, out.text)) return ec;
    const std::size_t sealed = traits_[t].sealed.size();
    if (auto ec = budget_.check_count(sealed, 1, 1, in_.remaining())) return ec;
    out.members.reserve(sealed);
    for (std::size_t i = 0; i < sealed; ++i) {  // index each time: nested objects add traits
      member& m = out.members.emplace_back();
      if (auto ec = take_text(traits_[t].sealed[i], m.name)) return ec;
      if (auto ec = decode(m.value, {self, false, i})) return ec;
    }
    if (traits_[t].dynamic)
      if (auto ec = decode_named_members(out, self)) return ec;
    return finish(self);
  }

  std::error_code read_traits(std::uint32_t bits, std::size_t& index) {
    traits t;
    t.externalizable = (bits & 2) != 0;
    t.dynamic = !t.externalizable && (bits & 4) != 0;
    const std::size_t sealed = t.externalizable ? 0 : bits >> 3;
    if (auto ec = read_string(t.class_name)) return ec;
    if (auto ec = budget_.check_count(sealed, 1, 1, in_.remaining())) return ec;
    t.sealed.resize(sealed);
    for (auto& name : t.sealed)
      if (auto ec = read_string(name)) return ec;
    traits_.push_back(std::move(t));
    index = traits_.size() - 1;
    return {};
  }

  // The dynamic part of an object and the associative part of an array.
  std::error_code decode_named_members(value& out, std::size_t self) {
    for (;;) {
      std::string_view name;
      if (auto ec = read_string(name)) return ec;
      if (name.empty()) return {};
      member& m = out.members.emplace_back();
      if (auto ec = take_text(name, m.name)) return ec;
      if (auto ec = decode(m.value, {self, false, out.members.size() - 1})) return ec;
    }
  }

  // Section 3.15: count, fixed-length flag, element type name for Vector.<Object>, elements.
  std::error_code decode_vector(std::uint8_t m, std::size_t count, value& out, location at) {
    const bool objects = m == marker::vector_object;
    std::uint8_t fixed = 0;
    std::string_view element_type;
    if (auto ec = in_.u8(fixed)) return ec;
    if (objects)
      if (auto ec = read_string(element_type)) return ec;
    const std::size_t element_bytes = objects ? 1 : m == marker::vector_double ? 8 : 4;
    if (auto ec = budget_.check_count(count, element_bytes, 1, in_.remaining())) return ec;
    const std::size_t self = add_entry(at, false);
    if (auto ec = budget_.enter()) return ec;
    switch (m) {
      case marker::vector_int: out.type = type::vector_int; break;
      case marker::vector_uint: out.type = type::vector_uint; break;
      case marker::vector_double: out.type = type::vector_double; break;
      default: out.type = type::vector_object; break;
    }
    out.flag = fixed != 0;
    if (auto ec = take_text(element_type, out.text)) return ec;
    out.items.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      value& item = out.items.emplace_back();
      if (auto ec = objects ? decode(item, {self, true, i}) : read_element(m, item)) return ec;
    }
    return finish(self);
  }

  // An element of Vector.<int>, <uint> or <Number>: fixed width, no marker.
  std::error_code read_element(std::uint8_t m, value& item) {
    if (auto ec = budget_.add_value()) return ec;
    if (m == marker::vector_double) {
      item.type = type::number;
      return in_.f64(item.number);
    }
    std::uint32_t raw = 0;
    if (auto ec = in_.u32(raw)) return ec;
    if (m == marker::vector_int) {
      item = value::make_integer(static_cast<std::int32_t>(raw));
    } else {
      item = value::make_number(raw);  // a uint does not fit value::integer
    }
    return {};
  }

  // Section 3.16: count, weak-keys flag, then key and value pairs; items hold them in turn.
  std::error_code decode_dictionary(std::size_t count, value& out, location at) {
    std::uint8_t weak = 0;
    if (auto ec = in_.u8(weak)) return ec;
    if (auto ec = budget_.check_count(count, 2, 2, in_.remaining())) return ec;
    const std::size_t self = add_entry(at, false);
    if (auto ec = budget_.enter()) return ec;
    out.type = type::dictionary;
    out.flag = weak != 0;
    out.items.reserve(2 * count);
    for (std::size_t i = 0; i < 2 * count; ++i)
      if (auto ec = decode(out.items.emplace_back(), {self, true, i})) return ec;
    return finish(self);
  }

  std::error_code copy_reference(std::size_t index, value& out) {
    if (index >= objects_.size()) return amf_errc::bad_reference;
    if (!objects_[index].complete) return amf_errc::cyclic_reference;
    const value& source = resolve(index);
    if (auto ec = budget_.add_copy(source)) return ec;
    out = source;
    return {};
  }

  std::size_t add_entry(location at, bool complete) {
    objects_.push_back({at, complete});
    return objects_.size() - 1;
  }

  std::error_code finish(std::size_t self) {
    budget_.leave();
    objects_[self].complete = true;
    return {};
  }

  // Recursion follows the entry's nesting, which the depth limit bounds.
  value& resolve(std::size_t entry) {
    const location at = objects_[entry].at;
    if (at.parent == no_parent) return root_;
    value& parent = resolve(at.parent);
    return at.in_items ? parent.items[at.index] : parent.members[at.index].value;
  }

  reader& in_;
  value& root_;
  detail::decode_budget& budget_;
  std::vector<std::string_view> strings_;
  std::vector<traits> traits_;
  std::vector<table_entry> objects_;
};

// Conversions for vector elements that were built by hand with another type: never UB, 0 when
// the value does not fit.
std::int32_t to_int32(const value& v) noexcept {
  using limits = std::numeric_limits<std::int32_t>;
  if (v.type == type::integer) return v.integer;
  const double d = v.number_or(0);
  return d >= limits::min() && d <= limits::max() ? static_cast<std::int32_t>(d) : 0;
}
std::uint32_t to_uint32(const value& v) noexcept {
  using limits = std::numeric_limits<std::uint32_t>;
  if (v.type == type::integer) return static_cast<std::uint32_t>(v.integer);
  const double d = v.number_or(0);
  return d >= 0 && d <= limits::max() ? static_cast<std::uint32_t>(d) : 0;
}

// Lengths and counts share a U29 with one flag bit.
std::size_t clamp_u28(std::size_t n) noexcept { return std::min<std::size_t>(n, u29_max >> 1); }

class encoder {
 public:
  explicit encoder(std::vector<std::byte>& out) noexcept : out_(out) {}

  // Recursion follows the nesting of `v`.
  void encode(const value& v) {
    switch (v.type) {
      case type::undefined: u8(marker::undefined); return;
      case type::null: u8(marker::null); return;
      case type::boolean: u8(v.flag ? marker::true_ : marker::false_); return;
      case type::integer:
        if (v.integer >= integer_min && v.integer <= integer_max) {
          u8(marker::integer);
          u29(static_cast<std::uint32_t>(v.integer) & u29_max);
        } else {  // section 3.6: out of U29 range, written as a double
          u8(marker::double_);
          f64(v.integer);
        }
        return;
      case type::number:
        u8(marker::double_);
        f64(v.number);
        return;
      case type::string:
        u8(marker::string);
        string_vr(v.text);
        return;
      case type::xml: blob(v.flag ? marker::xml_document : marker::xml, v.text); return;
      case type::byte_array: blob(marker::byte_array, v.text); return;
      case type::date:
        u8(marker::date);
        u29(1);
        f64(v.number);
        return;
      case type::object: object(v); return;
      case type::ecma_array:
      case type::strict_array: array(v); return;
      case type::vector_int: vector(marker::vector_int, v); return;
      case type::vector_uint: vector(marker::vector_uint, v); return;
      case type::vector_double: vector(marker::vector_double, v); return;
      case type::vector_object: vector(marker::vector_object, v); return;
      case type::dictionary: dictionary(v); return;
    }
  }

 private:
  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u29(std::uint32_t v) {
    v &= u29_max;
    if (v >= 0x200000) {  // four bytes: 7 + 7 + 7 + 8 bits
      u8(static_cast<std::uint8_t>(0x80 | (v >> 22)));
      u8(static_cast<std::uint8_t>(0x80 | ((v >> 15) & 0x7F)));
      u8(static_cast<std::uint8_t>(0x80 | ((v >> 8) & 0x7F)));
      u8(static_cast<std::uint8_t>(v & 0xFF));
      return;
    }
    if (v >= 0x4000) u8(static_cast<std::uint8_t>(0x80 | (v >> 14)));
    if (v >= 0x80) u8(static_cast<std::uint8_t>(0x80 | ((v >> 7) & 0x7F)));
    u8(static_cast<std::uint8_t>(v & 0x7F));
  }
  void u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
  }
  void f64(double d) {
    const auto bits = std::bit_cast<std::uint64_t>(d);
    for (int shift = 56; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(bits >> shift));
  }
  void raw(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    out_.insert(out_.end(), p, p + s.size());
  }
  void length(std::size_t n) { u29(static_cast<std::uint32_t>(n << 1) | 1); }

  // Section 1.3.2: a string seen before goes out as its table index; "" is never a reference.
  // The decoder numbers every non-empty literal, so every one is counted here too.
  void string_vr(std::string_view s) {
    if (s.empty()) {
      u29(1);
      return;
    }
    if (auto it = strings_.find(s); it != strings_.end()) {
      u29(it->second << 1);
      return;
    }
    if (next_string_ <= (u29_max >> 1)) strings_.emplace(s, next_string_);
    ++next_string_;
    s = s.substr(0, clamp_u28(s.size()));
    length(s.size());
    raw(s);
  }

  void blob(std::uint8_t m, std::string_view s) {
    s = s.substr(0, clamp_u28(s.size()));
    u8(m);
    length(s.size());
    raw(s);
  }

  // Typed objects go out with every member sealed; anonymous ones dynamic, as Flash writes them,
  // unless a member is named "", which would end the dynamic part (a sealed name may be "").
  void object(const value& v) {
    u8(marker::object);
    const bool sealed =
        !v.text.empty() || std::any_of(v.members.begin(), v.members.end(),
                                       [](const member& m) { return m.name.empty(); });
    // U29O-traits: 25 bits of sealed count.
    const std::size_t n = sealed ? std::min<std::size_t>(v.members.size(), u29_max >> 4) : 0;
    std::string key(1, sealed ? 's' : 'd');
    append_key(key, v.text);
    for (std::size_t i = 0; i < n; ++i) append_key(key, v.members[i].name);
    if (auto it = traits_.find(key); it != traits_.end()) {
      u29(static_cast<std::uint32_t>(it->second << 2) | 0x01);  // U29O-traits-ref
    } else {
      if (next_traits_ <= (u29_max >> 2)) traits_.emplace(std::move(key), next_traits_);
      ++next_traits_;
      u29(static_cast<std::uint32_t>(n << 4) | (sealed ? 0x03 : 0x0B));
      string_vr(v.text);
      for (std::size_t i = 0; i < n; ++i) string_vr(v.members[i].name);
    }
    if (sealed) {
      for (std::size_t i = 0; i < n; ++i) encode(v.members[i].value);
      return;
    }
    for (const auto& m : v.members) {
      string_vr(m.name);
      encode(m.value);
    }
    string_vr({});
  }

  static void append_key(std::string& key, std::string_view name) {
    key += std::to_string(name.size());
    key += ':';
    key += name;
  }

  // Section 3.10; an ecma_array's members are the associative part ("" names cannot be sent).
  void array(const value& v) {
    const std::size_t n = clamp_u28(v.items.size());
    u8(marker::array);
    length(n);
    for (const auto& m : v.members) {
      if (m.name.empty()) continue;
      string_vr(m.name);
      encode(m.value);
    }
    string_vr({});
    for (std::size_t i = 0; i < n; ++i) encode(v.items[i]);
  }

  void vector(std::uint8_t m, const value& v) {
    const std::size_t n = clamp_u28(v.items.size());
    u8(m);
    length(n);
    u8(v.flag ? 1 : 0);
    if (m == marker::vector_object) string_vr(v.text);
    for (std::size_t i = 0; i < n; ++i) {
      const value& item = v.items[i];
      switch (m) {
        case marker::vector_int: u32(static_cast<std::uint32_t>(to_int32(item))); break;
        case marker::vector_uint: u32(to_uint32(item)); break;
        case marker::vector_double: f64(item.number_or(0)); break;
        default: encode(item); break;
      }
    }
  }

  void dictionary(const value& v) {
    const std::size_t pairs = clamp_u28(v.items.size() / 2);
    u8(marker::dictionary);
    length(pairs);
    u8(v.flag ? 1 : 0);
    for (std::size_t i = 0; i < 2 * pairs; ++i) encode(v.items[i]);
  }

  std::vector<std::byte>& out_;
  std::unordered_map<std::string_view, std::uint32_t> strings_;  // views into the value
  std::map<std::string, std::uint32_t> traits_;
  std::uint32_t next_string_ = 0;
  std::uint32_t next_traits_ = 0;
};

}  // namespace

std::error_code decode_amf3_value(std::span<const std::byte>& bytes, value& out,
                                  const decode_limits& limits) {
  detail::decode_budget budget(limits);
  value result;
  auto rest = bytes;
  if (auto ec = detail::decode_amf3_switched(rest, result, budget)) return ec;
  out = std::move(result);
  bytes = rest;
  return {};
}

void encode_amf3(const value& v, std::vector<std::byte>& out) {
  encoder e(out);
  e.encode(v);
}

namespace detail {
std::error_code decode_amf3_switched(std::span<const std::byte>& bytes, value& out,
                                     decode_budget& budget) {
  reader in(bytes);
  decoder d(in, out, budget);
  if (auto ec = d.decode(out, {})) return ec;
  bytes = bytes.subspan(in.consumed());
  return {};
}
}  // namespace detail

}  // namespace junction::media::amf
