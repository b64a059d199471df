#pragma once
// Base64 (RFC 4648 §4) as SDP attribute values carry binary: H.264's sprop-parameter-sets and
// SDES's inline keys. OpenSSL's block coder, with the padding it counts taken off again.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::media::sdp {

std::string base64_encode(std::span<const std::uint8_t> data);
// Nothing unless `text` is well-formed base64 (length a multiple of 4) of at most `max_text`.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, std::size_t max_text = 4096);

}  // namespace junction::media::sdp
