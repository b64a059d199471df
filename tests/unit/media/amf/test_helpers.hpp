#pragma once
// What the AMF0 and AMF3 tests share: bytes written as hex and 'quoted ASCII', and short value
// builders.
#include "media/amf/value.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace junction::media::amf::amf_test {

using bytes = std::vector<std::byte>;

// Bytes from hex pairs and 'quoted ASCII', spaces ignored: "02 0003 'abc'".
inline bytes wire(std::string_view spec) {
  bytes out;
  for (std::size_t i = 0; i < spec.size();) {
    if (spec[i] == ' ') {
      ++i;
    } else if (spec[i] == '\'') {
      const auto end = spec.find('\'', i + 1);
      for (char c : spec.substr(i + 1, end - i - 1)) out.push_back(static_cast<std::byte>(c));
      i = end + 1;
    } else {
      out.push_back(static_cast<std::byte>(std::stoi(std::string(spec.substr(i, 2)), nullptr, 16)));
      i += 2;
    }
  }
  return out;
}

inline bytes& operator+=(bytes& a, const bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
inline bytes operator+(bytes a, const bytes& b) { return a += b; }

inline value S(std::string s) { return value::make_string(std::move(s)); }
inline value N(double d) { return value::make_number(d); }
inline value B(bool b) { return value::make_boolean(b); }
inline value I(std::int32_t i) { return value::make_integer(i); }
inline value obj(std::vector<member> m, std::string class_name = {}) {
  return value::make_object(std::move(m), std::move(class_name));
}
inline value ecma(std::vector<member> m) { return value::make_ecma_array(std::move(m)); }
inline value arr(std::vector<value> items) { return value::make_strict_array(std::move(items)); }
inline value of(type t, std::vector<value> items = {}, std::string text = {}, bool flag = false) {
  value v;
  v.type = t;
  v.items = std::move(items);
  v.text = std::move(text);
  v.flag = flag;
  return v;
}

}  // namespace junction::media::amf::amf_test
