#pragma once
// AMF0 (Adobe "Action Message Format -- AMF 0", 2007): the encoding of RTMP command (type 20) and
// data (type 18) message bodies. Pure functions over bytes; no state survives a call.
//
// Decoding resolves references (marker 0x07) into copies, so values are plain trees. Choices the
// specification leaves open:
// - The reference table (section 2.9) holds objects, typed objects, ECMA arrays and strict arrays
//   and spans one call: all the values of one decode_amf0, or the one value of
//   decode_amf0_value.
// - The ECMA array count (section 2.10) is a hint that encoders get wrong; it is ignored and the
//   array ends at its object-end marker.
// - "unsupported" (0x0D) decodes as undefined: it stands for a value the sender could not write.
//   movieclip (0x04) and recordset (0x0E) are refused with amf_errc::unsupported_type.
// - The AVM+ switch (0x11, section 3.1) decodes one AMF3 value with fresh AMF3 reference tables;
//   the depth and value limits carry on across the switch.
// - Strings are bytes: UTF-8 is not validated.
#include "media/amf/error.hpp"
#include "media/amf/value.hpp"

#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

namespace junction::media::amf {

// Decodes every value in `bytes` (one whole command or data message body) and appends them to
// `out`. On error `out` is left as it was.
std::error_code decode_amf0(std::span<const std::byte> bytes, std::vector<value>& out,
                            const decode_limits& limits = {});

// Decodes one value from the front of `bytes` and advances `bytes` past it. On error neither
// `bytes` nor `out` changes.
std::error_code decode_amf0_value(std::span<const std::byte>& bytes, value& out,
                                  const decode_limits& limits = {});

// Appends the encoding of `v`. Strings of 65536 bytes or more go out as long strings, objects
// with a class name as typed objects. What AMF0 cannot hold goes out as 0x11 + AMF3: integers
// (build numbers with value::make_number for peers that cannot read AMF3, which is most of
// them), byte arrays, vectors, dictionaries, AMF3 XML, ECMA arrays with dense items, and objects
// with a member name that is empty or longer than 65535 bytes. ECMA array members with an
// empty name cannot be written in either format and are left out. Recursion follows the
// nesting of `v`; values from the decoders are at most decode_limits::max_depth deep.
void encode_amf0(const value& v, std::vector<std::byte>& out);

}  // namespace junction::media::amf
