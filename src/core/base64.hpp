#pragma once
// Base64 (RFC 4648 §4) and its URL- and filename-safe alphabet (§5), strict on input: a
// character outside the alphabet, a wrong length or padding in the wrong place is refused, so
// that one value has one spelling (SCRAM compares what it decodes, nonces are MACs over bytes).
#include <optional>
#include <string>
#include <string_view>

namespace junction::base64 {

enum class alphabet { standard, url };

// `pad`: '=' to a multiple of four characters (the standard form; the URL form usually goes
// without).
std::string encode(std::string_view bytes, alphabet a = alphabet::standard, bool pad = true);
// With padding required (`pad`) or refused (not `pad`).
std::optional<std::string> decode(std::string_view text, alphabet a = alphabet::standard, bool pad = true);

}  // namespace junction::base64
