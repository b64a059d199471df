#pragma once
// One value model for AMF0 and AMF3 (Adobe's Action Message Format): what RTMP commands and
// metadata carry. Decoders resolve references into copies, so a value is a plain tree. Values
// that exist only in AMF3 (integer, byte array, vectors, dictionary) are written into AMF0
// behind the AVM+ switch marker.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::media::amf {

enum class type : std::uint8_t {
  undefined,
  null,
  boolean,
  number,        // IEEE double (AMF0 number, AMF3 double)
  integer,       // AMF3 29-bit signed integer
  string,
  xml,           // AMF0 XML document, AMF3 XML and XMLDocument (`xml_document` tells which)
  date,          // milliseconds since the epoch in `number`; AMF0 time zone in `integer`
  object,        // anonymous or typed (`text` holds the class name when typed)
  ecma_array,    // associative array (AMF0 ECMA array, AMF3 array's associative part)
  strict_array,  // dense array (AMF0 strict array, AMF3 array's dense part)
  byte_array,    // AMF3 ByteArray, bytes in `text`
  vector_int,    // AMF3 Vector.<int> / <uint> / <Number> / <Object>, elements in `items`
  vector_uint,
  vector_double,
  vector_object,  // element class name in `text`
  dictionary,     // AMF3 Dictionary: items hold key, value, key, value, ...
};

struct member;

struct value {
  media::amf::type type = media::amf::type::undefined;
  bool flag = false;           // boolean value; `fixed` for vectors; `xml_document` for xml; weak keys for dictionary
  double number = 0;           // number, date
  std::int32_t integer = 0;    // integer; AMF0 date time zone (minutes)
  std::string text;            // string, xml, byte array, class name of a typed object/vector
  std::vector<member> members; // object, ecma_array (ordered as on the wire)
  std::vector<value> items;    // strict_array, vectors, dictionary

  // Defined below `member`, and overloads rather than `= {}` defaults: creating a value here
  // would destroy a vector<member>, which clang instantiates on the spot, while `member` is
  // still incomplete.
  static value make_undefined();
  static value make_null();
  static value make_boolean(bool b);
  static value make_number(double d);
  static value make_integer(std::int32_t i);
  static value make_string(std::string s);
  static value make_object();
  static value make_object(std::vector<member> m, std::string class_name = {});
  static value make_ecma_array();
  static value make_ecma_array(std::vector<member> m);
  static value make_strict_array();
  static value make_strict_array(std::vector<value> items);

  bool is(media::amf::type t) const noexcept { return type == t; }
  bool is_null_or_undefined() const noexcept {
    return type == media::amf::type::null || type == media::amf::type::undefined;
  }
  // Object and ECMA array lookups; nullptr when absent or when this holds no members.
  const value* find(std::string_view key) const noexcept;
  // Typed reads with a fallback for a missing or differently typed value: RTMP clients are loose
  // about types (a number sent as a string, an integer as a double).
  std::string_view string_or(std::string_view fallback = {}) const noexcept {
    return type == media::amf::type::string ? std::string_view{text} : fallback;
  }
  double number_or(double fallback) const noexcept {
    if (type == media::amf::type::number) return number;
    if (type == media::amf::type::integer) return integer;
    return fallback;
  }
  bool boolean_or(bool fallback) const noexcept {
    return type == media::amf::type::boolean ? flag : fallback;
  }
  // Member `key` as a string/number/boolean, or the fallback.
  std::string_view get_string(std::string_view key, std::string_view fallback = {}) const noexcept {
    const value* v = find(key);
    return v ? v->string_or(fallback) : fallback;
  }
  double get_number(std::string_view key, double fallback) const noexcept {
    const value* v = find(key);
    return v ? v->number_or(fallback) : fallback;
  }

  friend bool operator==(const value&, const value&);
};

struct member {
  std::string name;
  media::amf::value value;
  friend bool operator==(const member&, const member&) = default;
};

inline value value::make_undefined() { return value{}; }
inline value value::make_null() {
  value v;
  v.type = media::amf::type::null;
  return v;
}
inline value value::make_boolean(bool b) {
  value v;
  v.type = media::amf::type::boolean;
  v.flag = b;
  return v;
}
inline value value::make_number(double d) {
  value v;
  v.type = media::amf::type::number;
  v.number = d;
  return v;
}
inline value value::make_integer(std::int32_t i) {
  value v;
  v.type = media::amf::type::integer;
  v.integer = i;
  return v;
}
inline value value::make_string(std::string s) {
  value v;
  v.type = media::amf::type::string;
  v.text = std::move(s);
  return v;
}
inline value value::make_object() { return make_object(std::vector<member>{}); }
inline value value::make_object(std::vector<member> m, std::string class_name) {
  value v;
  v.type = media::amf::type::object;
  v.members = std::move(m);
  v.text = std::move(class_name);
  return v;
}
inline value value::make_ecma_array() { return make_ecma_array(std::vector<member>{}); }
inline value value::make_ecma_array(std::vector<member> m) {
  value v;
  v.type = media::amf::type::ecma_array;
  v.members = std::move(m);
  return v;
}
inline value value::make_strict_array() { return make_strict_array(std::vector<value>{}); }
inline value value::make_strict_array(std::vector<value> items) {
  value v;
  v.type = media::amf::type::strict_array;
  v.items = std::move(items);
  return v;
}
inline const value* value::find(std::string_view key) const noexcept {
  for (const auto& m : members)
    if (m.name == key) return &m.value;
  return nullptr;
}
inline bool operator==(const value& a, const value& b) {
  return a.type == b.type && a.flag == b.flag && a.number == b.number && a.integer == b.integer &&
         a.text == b.text && a.members == b.members && a.items == b.items;
}

}  // namespace junction::media::amf
