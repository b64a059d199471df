// AMF0 codec: byte vectors from the AMF0 specification and real clients, round trips, and
// malformed input (truncation at every offset, limits, references). Also covers amf_error.
#include "media/amf/amf0.hpp"

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
  encode_amf0(v, out);
  return out;
}

std::vector<value> decode_ok(const bytes& b) {
  std::vector<value> out;
  const auto ec = decode_amf0(b, out);
  EXPECT_FALSE(ec) << ec.message();
  return out;
}

std::error_code decode_error(const bytes& b, const decode_limits& limits = {}) {
  std::vector<value> out;
  return decode_amf0(b, out, limits);
}

// The connect command as ffmpeg's rtmpproto.c (gen_connect) sends it when playing, with
// librtmp's objectEncoding appended: transaction id 1, then the command object.
const bytes connect_body = wire(
    "02 0007 'connect' 00 3FF0000000000000 03"
    " 0003 'app' 02 0004 'live'"
    " 0008 'flashVer' 02 000D 'LNX 9,0,124,2'"
    " 0005 'tcUrl' 02 001A 'rtmp://localhost:1935/live'"
    " 0004 'fpad' 01 00"
    " 000C 'capabilities' 00 402E000000000000"
    " 000B 'audioCodecs' 00 40AFCE0000000000"
    " 000B 'videoCodecs' 00 406F800000000000"
    " 000D 'videoFunction' 00 3FF0000000000000"
    " 000E 'objectEncoding' 00 0000000000000000"
    " 0000 09");

std::vector<value> connect_values() {
  return {S("connect"), N(1),
          obj({{"app", S("live")},
               {"flashVer", S("LNX 9,0,124,2")},
               {"tcUrl", S("rtmp://localhost:1935/live")},
               {"fpad", B(false)},
               {"capabilities", N(15)},
               {"audioCodecs", N(4071)},
               {"videoCodecs", N(252)},
               {"videoFunction", N(1)},
               {"objectEncoding", N(0)}})};
}

TEST(AmfError, IsAnErrorCodeCategoryWithClearMessages) {
  const std::error_code ec = amf_errc::too_deep;
  EXPECT_EQ(ec, amf_errc::too_deep);
  EXPECT_STREQ(ec.category().name(), "amf");
  EXPECT_NE(ec.message().find("nesting deeper than the limit"), std::string::npos);
  EXPECT_EQ(make_error_code(amf_errc::truncated).value(), 1);
  for (int e = 1; e <= static_cast<int>(amf_errc::unsupported_type); ++e)
    EXPECT_EQ(make_error_code(static_cast<amf_errc>(e)).message().rfind("AMF", 0), 0u) << e;
}

TEST(Amf0Decode, ConnectCommandAsFfmpegSendsIt) {
  const auto values = decode_ok(connect_body);
  EXPECT_EQ(values, connect_values());
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[2].get_string("tcUrl"), "rtmp://localhost:1935/live");
  EXPECT_EQ(values[2].get_number("audioCodecs", 0), 4071);
}

TEST(Amf0Encode, ConnectCommandGivesTheSameBytes) {
  bytes out;
  for (const auto& v : connect_values()) encode_amf0(v, out);
  EXPECT_EQ(out, connect_body);
}

TEST(Amf0Decode, OnMetaDataEcmaArrayIgnoresTheCountHint) {
  // As ffmpeg's flvenc writes it, but with a count hint of 0 (encoders get it wrong).
  const auto values =
      decode_ok(wire("02 000D '@setDataFrame' 02 000A 'onMetaData' 08 00000000"
                     " 0008 'duration' 00 0000000000000000 0005 'width' 00 4094000000000000"
                     " 0006 'height' 00 4086800000000000 000C 'videocodecid' 00 401C000000000000"
                     " 0006 'stereo' 01 01 0007 'encoder' 02 000D 'Lavf60.16.100' 0000 09"));
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[2], ecma({{"duration", N(0)},
                             {"width", N(1280)},
                             {"height", N(720)},
                             {"videocodecid", N(7)},
                             {"stereo", B(true)},
                             {"encoder", S("Lavf60.16.100")}}));
}

TEST(Amf0Decode, EveryTypeFromTheSpecification) {
  value date = of(type::date);
  date.number = 1700000000000.0;
  date.integer = -60;
  value xml = of(type::xml);
  xml.flag = true;
  xml.text = "<a/>";
  value null_value = value::make_null();
  const struct {
    bytes in;
    value expected;
  } cases[] = {
      {wire("00 3FF8000000000000"), N(1.5)},
      {wire("01 00"), B(false)},
      {wire("01 02"), B(true)},  // any non-zero byte is true
      {wire("02 0000"), S("")},
      {wire("05"), null_value},
      {wire("06"), value{}},
      {wire("0D"), value{}},  // unsupported: a value the sender could not write
      {wire("0B 4278BCFE56800000 FFC4"), date},
      {wire("0C 00000003 'abc'"), S("abc")},
      {wire("0F 00000004 '<a/>'"), xml},
      {wire("03 0000 09"), obj({})},
      {wire("10 0003 'Foo' 0001 'x' 00 3FF0000000000000 0000 09"), obj({{"x", N(1)}}, "Foo")},
      {wire("0A 00000002 02 0001 'a' 05"), arr({S("a"), null_value})},
      {wire("08 00000000 0000 09"), ecma({})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.in));
    auto span = std::span<const std::byte>(c.in);
    value out;
    ASSERT_FALSE(decode_amf0_value(span, out));
    EXPECT_TRUE(span.empty());
    EXPECT_EQ(out, c.expected);
  }
}

TEST(Amf0Decode, OneValueAtATimeAdvancesTheSpan) {
  auto span = std::span<const std::byte>(connect_body);
  value v;
  ASSERT_FALSE(decode_amf0_value(span, v));
  EXPECT_EQ(v, S("connect"));
  ASSERT_FALSE(decode_amf0_value(span, v));
  EXPECT_EQ(v, N(1));
  ASSERT_FALSE(decode_amf0_value(span, v));
  EXPECT_TRUE(span.empty());
}

TEST(Amf0Decode, ReferenceResolvesToACopy) {
  // Table: 0 = the strict array, 1 = the object; index 1 repeats the object.
  const auto values =
      decode_ok(wire("0A 00000002 03 0001 'a' 00 3FF0000000000000 0000 09 07 0001"));
  const value a = obj({{"a", N(1)}});
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0], arr({a, a}));
}

TEST(Amf0Decode, ReferenceTableSpansTheValuesOfOneBody) {
  const bytes body = wire("03 0001 'a' 02 0001 'x' 0000 09 07 0000");
  const auto values = decode_ok(body);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[1], values[0]);
  // decode_amf0_value starts a fresh table each call.
  auto span = std::span<const std::byte>(body);
  value v;
  ASSERT_FALSE(decode_amf0_value(span, v));
  EXPECT_EQ(decode_amf0_value(span, v), amf_errc::bad_reference);
}

TEST(Amf0Decode, ReferenceToAnObjectStillBeingDecodedIsACycle) {
  EXPECT_EQ(decode_error(wire("03 0004 'self' 07 0000 0000 09")), amf_errc::cyclic_reference);
  EXPECT_EQ(decode_error(wire("0A 00000001 0A 00000001 07 0000")), amf_errc::cyclic_reference);
}

TEST(Amf0Decode, AvmPlusSwitchDecodesOneAmf3Value) {
  const auto values = decode_ok(wire("11 04 7F 11 06 07 'abc' 11 0A 0B 01 03 'k' 04 05 01"));
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], I(127));
  EXPECT_EQ(values[1], S("abc"));
  EXPECT_EQ(values[2], obj({{"k", I(5)}}));
  // Each switch starts with empty AMF3 tables: "abc" is string 0 in the first, unknown in the
  // second.
  EXPECT_FALSE(decode_error(wire("11 09 05 01 06 07 'abc' 06 00")));
  EXPECT_EQ(decode_error(wire("11 06 07 'abc' 11 06 00")), amf_errc::bad_reference);
}

TEST(Amf0Encode, StringsOfAtLeast65536BytesAreLongStrings) {
  const std::string short_text(65535, 'x');
  const std::string long_text(65536, 'y');
  const bytes short_encoded = encode(S(short_text));
  EXPECT_EQ(bytes(short_encoded.begin(), short_encoded.begin() + 3), wire("02 FFFF"));
  const bytes long_encoded = encode(S(long_text));
  EXPECT_EQ(bytes(long_encoded.begin(), long_encoded.begin() + 5), wire("0C 00010000"));
  EXPECT_EQ(long_encoded.size(), 5u + 65536u);
}

TEST(Amf0Encode, WhatAmf0CannotHoldGoesBehindTheSwitch) {
  value bytes_value = of(type::byte_array);
  bytes_value.text = "abc";
  value amf3_xml = of(type::xml);
  amf3_xml.text = "<a/>";
  value mixed = ecma({{"k", S("v")}});
  mixed.items = {I(1)};
  const struct {
    value in;
    bytes expected;
  } cases[] = {
      {obj({{"x", N(1)}}, "Foo"), wire("10 0003 'Foo' 0001 'x' 00 3FF0000000000000 0000 09")},
      {I(5), wire("11 04 05")},
      {I(1 << 28), wire("11 05 41B0000000000000")},  // beyond U29: an AMF3 double
      {bytes_value, wire("11 0C 07 'abc'")},
      {amf3_xml, wire("11 0B 09 '<a/>'")},
      {mixed, wire("11 09 03 03 'k' 06 03 'v' 01 04 01")},
      {obj({{"", N(1)}}), wire("11 0A 13 01 01 05 3FF0000000000000")},  // sealed name ""
      {ecma({{"", N(1)}, {"a", B(true)}}), wire("08 00000001 0001 'a' 01 01 0000 09")},
      {arr({I(1), N(2)}), wire("0A 00000002 11 04 01 00 4000000000000000")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.expected));
    EXPECT_EQ(encode(c.in), c.expected);
  }
}

TEST(Amf0RoundTrip, EncodeThenDecodeGivesTheSameValue) {
  value date = of(type::date);
  date.number = 1.5;
  date.integer = 120;
  value vec = of(type::vector_uint);
  vec.items = {N(4294967295.0), N(0)};
  value dict = of(type::dictionary);
  dict.items = {S("key"), obj({{"a", I(-1)}}), I(3), value::make_null()};
  value mixed = ecma({{"name", S("n")}});
  mixed.items = {S("dense"), value{}};
  const value cases[] = {
      N(-0.25),
      S(std::string(70000, 'z')),
      date,
      vec,
      dict,
      mixed,
      ecma({{std::string(70000, 'k'), N(1)}}),
      obj({{"nested", obj({{"deeper", arr({N(1), S("two"), obj({}, "T")})}})}}, "Outer"),
      arr({I(-(1 << 28)), I((1 << 28) - 1), obj({{"", S("empty name")}}, "C")}),
  };
  for (const auto& v : cases) {
    const auto values = decode_ok(encode(v));
    ASSERT_EQ(values.size(), 1u);
    EXPECT_EQ(values[0], v);
  }
}

TEST(Amf0Decode, TruncationAtEveryOffsetIsAnError) {
  const bytes encodings[] = {
      bytes(connect_body.begin() + 19, connect_body.end()),  // the command object alone
      wire("0A 00000002 03 0001 'a' 00 3FF0000000000000 0000 09 07 0001"),
      wire("08 00000001 0001 'k' 0C 00000002 'xy' 0000 09"),
      wire("10 0003 'Foo' 0001 'd' 0B 4278BCFE56800000 0000 0000 09"),
      wire("0F 00000004 '<a/>'"),
      wire("11 0A 13 07 'Foo' 03 'a' 09 03 01 0C 05 'xy'"),
  };
  for (const auto& full : encodings) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      const bytes prefix(full.begin(), full.begin() + n);
      auto span = std::span<const std::byte>(prefix);
      value out = S("untouched");
      EXPECT_EQ(decode_amf0_value(span, out), amf_errc::truncated) << "cut at " << n;
      EXPECT_EQ(span.size(), n);
      EXPECT_EQ(out, S("untouched"));
    }
  }
}

TEST(Amf0Decode, TruncatedBodyDecodesWholeValuesOrFails) {
  for (std::size_t n = 0; n < connect_body.size(); ++n) {
    std::vector<value> out;
    const auto ec = decode_amf0(std::span(connect_body).first(n), out);
    const bool at_value_boundary = n == 0 || n == 10 || n == 19;
    EXPECT_EQ(!ec, at_value_boundary) << "cut at " << n;
  }
}

TEST(Amf0Decode, ErrorLeavesTheOutputAsItWas) {
  std::vector<value> out{S("earlier")};
  EXPECT_EQ(decode_amf0(wire("02 0001 'a' 03 0001 'b' 05"), out), amf_errc::truncated);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], S("earlier"));
}

TEST(Amf0Decode, NestingLimit) {
  auto nest = [](int levels) {
    bytes b;
    for (int i = 0; i < levels; ++i) b += wire("03 0001 'a'");
    b += wire("05");
    for (int i = 0; i < levels; ++i) b += wire("0000 09");
    return b;
  };
  EXPECT_FALSE(decode_error(nest(32)));
  EXPECT_EQ(decode_error(nest(33)), amf_errc::too_deep);
  EXPECT_EQ(decode_error(nest(4), {.max_depth = 3}), amf_errc::too_deep);
  // Strict arrays and the AMF3 values behind a switch count toward the same limit.
  bytes arrays;
  for (int i = 0; i < 32; ++i) arrays += wire("0A 00000001");
  EXPECT_EQ(decode_error(arrays + wire("11 09 01 01")), amf_errc::too_deep);
  EXPECT_FALSE(decode_error(arrays + wire("11 04 01")));
  // Far deeper than any stack could take if the limit were not enforced.
  EXPECT_EQ(decode_error(nest(20000)), amf_errc::too_deep);
}

TEST(Amf0Decode, DeclaredCountsAreCheckedBeforeAnythingIsReserved) {
  EXPECT_EQ(decode_error(wire("0A FFFFFFFF 05")), amf_errc::too_many_items);
  EXPECT_EQ(decode_error(wire("0A 00000064 05 05 05")), amf_errc::truncated);
  EXPECT_EQ(decode_error(wire("0A 00020000 05")), amf_errc::too_many_values);
  EXPECT_EQ(decode_error(wire("0C FFFFFFFF 'abc'")), amf_errc::string_too_long);
  EXPECT_EQ(decode_error(wire("02 0005 'abc'")), amf_errc::truncated);
  EXPECT_EQ(decode_error(wire("02 0004 'abcd'"), {.max_string = 3}), amf_errc::string_too_long);
  EXPECT_EQ(decode_error(wire("03 0004 'abcd' 05 0000 09"), {.max_string = 3}),
            amf_errc::string_too_long);  // member names too
}

TEST(Amf0Decode, ReferenceBombStopsAtTheValueLimit) {
  // Value k is a strict array holding two references to value k-1: 2^k copies from 13 bytes.
  bytes body = wire("0A 00000002 05 05");
  for (int k = 1; k < 40; ++k) {
    body += wire("0A 00000002 07") + bytes{std::byte{0}, static_cast<std::byte>(k - 1)} +
            wire("07") + bytes{std::byte{0}, static_cast<std::byte>(k - 1)};
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(decode_error(body), amf_errc::too_many_values);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Amf0Decode, ReferenceCopiesCountTowardTheByteLimit) {
  bytes body = wire("03 0001 's' 02 03E8") + bytes(1000, std::byte{'x'}) + wire("0000 09");
  for (int k = 0; k < 20; ++k) body += wire("07 0000");
  EXPECT_FALSE(decode_error(body, {.max_total_bytes = 21 * 1001}));
  EXPECT_EQ(decode_error(body, {.max_total_bytes = 20 * 1001}), amf_errc::too_many_bytes);
}

TEST(Amf0Decode, ReferenceCannotNestACopyPastTheDepthLimit) {
  bytes deep;  // 30 nested objects: table entries 0..29
  for (int i = 0; i < 30; ++i) deep += wire("03 0001 'a'");
  deep += wire("05");
  for (int i = 0; i < 30; ++i) deep += wire("0000 09");
  EXPECT_FALSE(decode_error(deep + wire("0A 00000001 0A 00000001 07 0000")));  // 2 + 30
  EXPECT_EQ(decode_error(deep + wire("0A 00000001 0A 00000001 0A 00000001 07 0000")),
            amf_errc::too_deep);  // 3 + 30
}

TEST(Amf0Decode, MalformedInputIsRefused) {
  const struct {
    bytes in;
    amf_errc expected;
  } cases[] = {
      {wire("12"), amf_errc::unknown_marker},
      {wire("FF"), amf_errc::unknown_marker},
      {wire("09"), amf_errc::unknown_marker},          // object-end where a value belongs
      {wire("03 0000 05"), amf_errc::unknown_marker},  // empty name without object-end
      {wire("04"), amf_errc::unsupported_type},        // movieclip
      {wire("0E"), amf_errc::unsupported_type},        // recordset
      {wire("07 0000"), amf_errc::bad_reference},      // nothing decoded yet
      {wire("03 0000 09 07 0001"), amf_errc::bad_reference},
      {wire("11 12"), amf_errc::unknown_marker},  // bad AMF3 behind the switch
      {wire("11"), amf_errc::truncated},
      {wire("00 3FF0"), amf_errc::truncated},
      {wire("0B 4278BCFE56800000 00"), amf_errc::truncated},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.in));
    EXPECT_EQ(decode_error(c.in), c.expected);
  }
}

}  // namespace
