#pragma once
// AMF3 (Adobe "Action Message Format -- AMF 3", 2008): what Flash Player 9+ writes inside AMF0
// bodies after the AVM+ switch marker (0x11), as in RTMP messages 15 and 17, whose AMF0 body
// follows one format byte. Pure functions over bytes; no state survives a call.
//
// Decoding resolves string, object and traits references into copies, so values are plain
// trees. How AMF3 maps onto `value`:
// - integer (U29, sign-extended from 29 bits) -> integer; double -> number; date -> date (no
//   time zone); XMLDocument (0x07) and XML (0x0B) -> xml with `flag` = is XMLDocument.
// - array: dense part only -> strict_array; with an associative part -> ecma_array holding the
//   named members and the dense part in `items`.
// - object -> object, class name in `text`, sealed members then dynamic ones, in wire order.
//   Externalizable classes (section 3.12) write a format of their own and are refused with
//   amf_errc::unsupported_type, except Flex's ArrayCollection and ObjectProxy, whose format is
//   one AMF3 value: they decode as that value.
// - Vector.<int> -> vector_int of integers, Vector.<uint> -> vector_uint of numbers,
//   Vector.<Number> -> vector_double of numbers, Vector.<Object> -> vector_object (element type
//   name in `text`); `flag` = fixed length. Dictionary -> dictionary with items key, value, ...;
//   `flag` = weak keys.
// - Strings are bytes: UTF-8 is not validated.
#include "media/amf/error.hpp"
#include "media/amf/value.hpp"

#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

namespace junction::media::amf {

// Decodes one AMF3 value from the front of `bytes` with fresh reference tables and advances
// `bytes` past it. On error neither `bytes` nor `out` changes.
std::error_code decode_amf3_value(std::span<const std::byte>& bytes, value& out,
                                  const decode_limits& limits = {});

// Appends the AMF3 encoding of `v` with fresh reference tables. Repeated strings (values, member
// and class names) and repeated traits go out as references; objects do not, since `v` is a tree.
// Typed objects are written with every member sealed; anonymous ones as dynamic objects, as
// Flash writes them (sealed if a member name is empty, which the dynamic part cannot carry).
// Integers outside [-2^28, 2^28 - 1] go out as doubles; a date loses its AMF0 time zone; an
// ecma_array without members decodes back as a strict_array; ecma_array members named "" and a
// dictionary's unpaired last item are left out. Lengths and counts beyond what the format can
// express (2^28 - 1 bytes or items) are cut, so the output stays well formed.
void encode_amf3(const value& v, std::vector<std::byte>& out);

namespace detail {
// The AMF0 decoder's way in at marker 0x11: fresh AMF3 tables, but the caller's budget, so depth
// and value counts carry on across the switch.
std::error_code decode_amf3_switched(std::span<const std::byte>& bytes, value& out,
                                     decode_budget& budget);
}  // namespace detail

}  // namespace junction::media::amf
