// AMF3 codec: byte vectors from the AMF3 specification (U29 edges, string/traits/object
// references, every type), round trips, and malformed input (truncation at every offset,
// limits, reference bombs, cycles).
#include "media/amf/amf3.hpp"

#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {
using namespace junction::media::amf;
using namespace junction::media::amf::amf_test;

bytes encode(const value& v) {
  bytes out;
  encode_amf3(v, out);
  return out;
}

// Decodes exactly one value that fills `b`.
value decode_ok(const bytes& b) {
  auto span = std::span<const std::byte>(b);
  value out;
  const auto ec = decode_amf3_value(span, out);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(span.empty());
  return out;
}

std::error_code decode_error(const bytes& b, const decode_limits& limits = {}) {
  auto span = std::span<const std::byte>(b);
  value out;
  return decode_amf3_value(span, out, limits);
}

// A byte vector, the value the specification says it holds, and whether Junction's encoder
// writes exactly these bytes for that value.
struct vector_case {
  bytes in;
  value expected;
  bool canonical = true;
};

void check(const vector_case& c) {
  SCOPED_TRACE(testing::PrintToString(c.in));
  EXPECT_EQ(decode_ok(c.in), c.expected);
  if (c.canonical) {
    EXPECT_EQ(encode(c.expected), c.in);
  }
  EXPECT_EQ(decode_ok(encode(c.expected)), c.expected);
}

TEST(Amf3Integer, U29EdgeCases) {
  const vector_case cases[] = {
      {wire("04 00"), I(0)},
      {wire("04 7F"), I(127)},
      {wire("04 81 00"), I(128)},
      {wire("04 FF 7F"), I(16383)},
      {wire("04 81 80 00"), I(16384)},
      {wire("04 FF FF 7F"), I(2097151)},
      {wire("04 80 C0 80 00"), I(2097152)},  // four bytes: the last carries 8 bits
      {wire("04 BF FF FF FF"), I((1 << 28) - 1)},
      {wire("04 FF FF FF FF"), I(-1)},  // sign-extended from 29 bits
      {wire("04 C0 80 80 00"), I(-(1 << 28))},
      {wire("04 80 80 80 01"), I(1), false},  // non-minimal, still valid
  };
  for (const auto& c : cases) check(c);
}

TEST(Amf3Integer, OutOfU29RangeEncodesAsDouble) {
  EXPECT_EQ(encode(I(1 << 28)), wire("05 41B0000000000000"));
  EXPECT_EQ(encode(I(-(1 << 28) - 1)), wire("05 C1B0000001000000"));
  EXPECT_EQ(encode(I(2147483647)), wire("05 41DFFFFFFFC00000"));
  EXPECT_EQ(decode_ok(encode(I(1 << 28))), N(1 << 28));
}

TEST(Amf3Decode, Scalars) {
  const vector_case cases[] = {
      {wire("00"), value{}},
      {wire("01"), value::make_null()},
      {wire("02"), value::make_boolean(false)},
      {wire("03"), value::make_boolean(true)},
      {wire("05 3FF8000000000000"), N(1.5)},
      {wire("06 01"), S("")},
      {wire("06 07 'abc'"), S("abc")},
      {wire("0B 09 '<a/>'"), of(type::xml, {}, "<a/>")},
      {wire("07 09 '<a/>'"), of(type::xml, {}, "<a/>", true)},  // XMLDocument
      {wire("0C 07 01 02 03"), of(type::byte_array, {}, "\x01\x02\x03")},
  };
  for (const auto& c : cases) check(c);
  value date = of(type::date);
  date.number = 1700000000000.0;
  check({wire("08 01 4278BCFE56800000"), date});
}

TEST(Amf3Decode, OneValueAdvancesTheSpanPastItOnly) {
  const bytes in = wire("04 01 05 3FF0000000000000");
  auto span = std::span<const std::byte>(in);
  value v;
  ASSERT_FALSE(decode_amf3_value(span, v));
  EXPECT_EQ(v, I(1));
  EXPECT_EQ(span.size(), 9u);
  ASSERT_FALSE(decode_amf3_value(span, v));
  EXPECT_EQ(v, N(1));
  EXPECT_TRUE(span.empty());
}

TEST(Amf3String, RepeatedStringsAreReferencesAndEmptyNeverIs) {
  check({wire("09 09 01 06 07 'abc' 06 00 06 01 06 01"), arr({S("abc"), S("abc"), S(""), S("")})});
  EXPECT_EQ(decode_error(wire("09 05 01 06 01 06 00")), amf_errc::bad_reference);
}

TEST(Amf3Object, TraitsReferences) {
  // Foo{a:1}, then Foo{a:2} by traits reference 0; "Foo" is string 0, "a" string 1.
  check({wire("09 05 01 0A 13 07 'Foo' 03 'a' 04 01 0A 01 04 02"),
         arr({obj({{"a", I(1)}}, "Foo"), obj({{"a", I(2)}}, "Foo")})});
  // A different class with the same member name reuses the string, not the traits.
  check({wire("09 05 01 0A 13 07 'Foo' 03 'a' 04 01 0A 13 07 'Bar' 02 04 02"),
         arr({obj({{"a", I(1)}}, "Foo"), obj({{"a", I(2)}}, "Bar")})});
}

TEST(Amf3Object, AnonymousObjectsAreDynamic) {
  check({wire("0A 0B 01 03 'a' 04 01 03 'b' 06 03 'x' 01"), obj({{"a", I(1)}, {"b", S("x")}})});
  // Sealed and dynamic members together, in wire order.
  check({wire("0A 1B 07 'Foo' 03 'a' 04 01 03 'b' 04 02 01"),
         obj({{"a", I(1)}, {"b", I(2)}}, "Foo"), false});
  // A member named "" cannot be dynamic (it ends the list), so the encoder seals it.
  check({wire("0A 13 01 01 04 01"), obj({{"", I(1)}})});
}

TEST(Amf3Object, ObjectReferencesAreCopies) {
  // Object table: 0 = the outer array, 1 = the object; 0A 02 refers to entry 1.
  const value a = obj({{"a", I(1)}});
  check({wire("09 05 01 0A 0B 01 03 'a' 04 01 01 0A 02"), arr({a, a}), false});
  value date = of(type::date);
  date.number = 1.5;
  check({wire("09 05 01 08 01 3FF8000000000000 08 02"), arr({date, date}), false});
  check({wire("09 05 01 0C 05 'xy' 0C 02"),
         arr({of(type::byte_array, {}, "xy"), of(type::byte_array, {}, "xy")}), false});
}

TEST(Amf3Array, DenseAndAssociativeParts) {
  value mixed = value::make_ecma_array({{"k", S("v")}});
  mixed.items = {I(1), I(2)};
  check({wire("09 05 03 'k' 06 03 'v' 01 04 01 04 02"), mixed});
  check({wire("09 01 01"), arr({})});
}

TEST(Amf3Vector, IntUintDoubleObject) {
  check({wire("0D 05 00 FFFFFFFF 00000001"), of(type::vector_int, {I(-1), I(1)})});
  check({wire("0E 03 01 FFFFFFFF"), of(type::vector_uint, {N(4294967295.0)}, {}, true)});
  check({wire("0F 05 00 3FF0000000000000 3FF8000000000000"),
         of(type::vector_double, {N(1), N(1.5)})});
  check({wire("10 05 00 07 'Foo' 04 01 06 01"), of(type::vector_object, {I(1), S("")}, "Foo")});
  check({wire("10 01 00 01"), of(type::vector_object)});
}

TEST(Amf3Dictionary, KeysAndValuesInTurn) {
  check({wire("11 03 00 06 03 'k' 04 07"), of(type::dictionary, {S("k"), I(7)})});
  check({wire("11 05 01 0A 0B 01 01 01 04 01 00"),
         of(type::dictionary, {obj({}), value::make_null(), I(1), value{}}, {}, true)});
}

TEST(Amf3Object, ExternalizableClasses) {
  EXPECT_EQ(decode_error(wire("0A 07 07 'Foo'")), amf_errc::unsupported_type);
  // Flex's ArrayCollection externalizes as its source array: decoded as that array.
  const bytes collection = wire("0A 07 43 'flex.messaging.io.ArrayCollection' 09 03 01 04 01");
  EXPECT_EQ(decode_ok(collection), arr({I(1)}));
  EXPECT_EQ(decode_ok(wire("0A 07 3B 'flex.messaging.io.ObjectProxy' 0A 0B 01 03 'a' 03 01")),
            obj({{"a", value::make_boolean(true)}}));
  // Wrappers nest no deeper than the depth limit allows, though they leave no node behind.
  bytes wrappers(collection.begin(), collection.end() - 5);  // the class, without the array
  for (int i = 0; i < 40; ++i) wrappers += wire("0A 07 00");
  EXPECT_EQ(decode_error(wrappers + wire("04 01")), amf_errc::too_deep);
}

TEST(Amf3Encode, RepeatedStringsAndTraitsShrinkTheOutput) {
  std::vector<value> items;
  for (int i = 0; i < 100; ++i)
    items.push_back(obj({{"name", S("same")}, {"index", I(i)}}, "flex.Item"));
  const bytes out = encode(arr(items));
  // Array header (4 bytes), the first object in full (31), then 6 bytes per object: marker,
  // traits reference, string marker and reference, integer marker and value.
  EXPECT_EQ(out.size(), 4u + 31u + 99u * 6u);
  EXPECT_EQ(decode_ok(out), arr(items));
}

TEST(Amf3RoundTrip, EncodeThenDecodeGivesTheSameValue) {
  value deep = S("leaf");
  for (int i = 0; i < 31; ++i) deep = arr({deep, obj({{"i", I(i)}}, i % 2 ? "Odd" : "")});
  value mixed = value::make_ecma_array({{std::string(300, 'k'), S(std::string(300, 'v'))}});
  mixed.items = {S(std::string(300, 'v'))};
  const value cases[] = {
      deep,
      mixed,
      obj({{"a", obj({{"a", obj({}, "A")}}, "A")}, {"b", obj({}, "A")}}, "A"),
      of(type::dictionary, {S("x"), S("x"), arr({}), of(type::vector_int, {I(-5)}, {}, true)}),
      of(type::vector_object, {obj({{"", I(1)}}, "T"), obj({{"", I(2)}}, "T")}, "T"),
      S(std::string(20000, 's')),
  };
  for (const auto& v : cases) EXPECT_EQ(decode_ok(encode(v)), v);
}

TEST(Amf3Decode, TruncationAtEveryOffsetIsAnError) {
  const bytes encodings[] = {
      wire("09 05 01 0A 13 07 'Foo' 03 'a' 04 01 0A 01 04 BF FF FF FF"),
      wire("09 05 03 'k' 06 03 'v' 01 08 01 3FF8000000000000 08 02"),
      wire("0A 1B 07 'Foo' 03 'a' 0C 05 'xy' 03 'b' 07 07 '<a>' 01"),
      wire("0D 05 00 FFFFFFFF 00000001"),
      wire("0F 03 00 3FF0000000000000"),
      wire("10 05 00 07 'Foo' 0B 03 'x' 06 01"),
      wire("11 05 01 0A 0B 01 01 01 04 01 01"),
  };
  for (const auto& full : encodings) {
    EXPECT_FALSE(decode_error(full));
    for (std::size_t n = 0; n < full.size(); ++n) {
      const bytes prefix(full.begin(), full.begin() + n);
      auto span = std::span<const std::byte>(prefix);
      value out = S("untouched");
      EXPECT_EQ(decode_amf3_value(span, out), amf_errc::truncated) << "cut at " << n;
      EXPECT_EQ(span.size(), n);
      EXPECT_EQ(out, S("untouched"));
    }
  }
}

TEST(Amf3Decode, MalformedInputIsRefused) {
  const struct {
    bytes in;
    amf_errc expected;
  } cases[] = {
      {wire("12"), amf_errc::unknown_marker},
      {wire("FF 01"), amf_errc::unknown_marker},
      {wire("06 02"), amf_errc::bad_reference},              // string 1 of none
      {wire("09 02"), amf_errc::bad_reference},              // object 1 of none
      {wire("0A 05"), amf_errc::bad_reference},              // traits 1 of none
      {wire("09 03 01 09 00"), amf_errc::cyclic_reference},  // the array holds itself
      {wire("0A 0B 01 03 'a' 0A 00"), amf_errc::cyclic_reference},
      {wire("11 03 00 11 00 01"), amf_errc::cyclic_reference},
      {wire("0A 13 01 01 11 03 00 0A 00 01"), amf_errc::cyclic_reference},
      {wire("06 FF FF FF FF"), amf_errc::string_too_long},
      {wire("0C 81 80 01"), amf_errc::truncated},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.in));
    EXPECT_EQ(decode_error(c.in), c.expected);
  }
}

TEST(Amf3Decode, NestingLimit) {
  auto nest = [](int levels) {
    bytes b;
    for (int i = 0; i < levels; ++i) b += wire("09 03 01");
    return b + wire("01");
  };
  EXPECT_FALSE(decode_error(nest(32)));
  EXPECT_EQ(decode_error(nest(33)), amf_errc::too_deep);
  EXPECT_EQ(decode_error(nest(20000)), amf_errc::too_deep);
  EXPECT_EQ(decode_error(nest(3), {.max_depth = 2}), amf_errc::too_deep);
  bytes objects;  // dynamic objects and dictionaries count too
  for (int i = 0; i < 20; ++i) objects += wire("0A 0B 01 03 'a' 11 03 00 01");
  EXPECT_EQ(decode_error(objects), amf_errc::too_deep);
}

TEST(Amf3Decode, DeclaredCountsAreCheckedBeforeAnythingIsReserved) {
  EXPECT_EQ(decode_error(wire("09 BF FF FF FF 01")), amf_errc::too_many_items);
  EXPECT_EQ(decode_error(wire("0D BF FF FF FF 00")), amf_errc::too_many_items);
  EXPECT_EQ(decode_error(wire("0D 81 80 01 00 00000001")), amf_errc::truncated);  // 8192 ints
  EXPECT_EQ(decode_error(wire("0F 09 00 3FF0000000000000")), amf_errc::truncated);
  EXPECT_EQ(decode_error(wire("11 81 80 01 00 01 01")), amf_errc::truncated);
  EXPECT_EQ(decode_error(wire("09 88 80 01 01")), amf_errc::too_many_values);    // 65536 items
  EXPECT_EQ(decode_error(wire("0A BF FF FF FB 01")), amf_errc::too_many_items);  // sealed names
  EXPECT_EQ(decode_error(wire("0A 43 01 01 01")), amf_errc::truncated);          // 4 sealed
}

TEST(Amf3Decode, ReferenceBombStopsAtTheValueLimit) {
  // Element k of the outer array is an array of two references to element k-1 (object table
  // entry k): 2^k copies from 5 bytes.
  bytes body = wire("09 51 01 09 05 01 04 01 04 01");  // 40 elements, the first [1, 1]
  for (int k = 2; k <= 40; ++k) {
    const auto ref = static_cast<std::byte>((k - 1) << 1);
    body += wire("09 05 01 09") + bytes{ref} + wire("09") + bytes{ref};
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(decode_error(body), amf_errc::too_many_values);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Amf3Decode, StringReferencesCountTowardTheByteLimit) {
  bytes body = wire("09 81 49 01 06 8F 51") + bytes(1000, std::byte{'x'});  // 100 items
  for (int k = 1; k < 100; ++k) body += wire("06 00");
  EXPECT_FALSE(decode_error(body, {.max_total_bytes = 100 * 1000}));
  EXPECT_EQ(decode_error(body, {.max_total_bytes = 99 * 1000}), amf_errc::too_many_bytes);
  // Member names and class names copied from traits count too.
  EXPECT_EQ(
      decode_error(wire("09 05 01 0A 13 07 'Foo' 03 'a' 01 0A 01 01"), {.max_total_bytes = 7}),
      amf_errc::too_many_bytes);
}

}  // namespace
