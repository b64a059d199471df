#pragma once
// RTP header extension elements (RFC 8285): the one-byte form (profile 0xBEDE: a 4-bit id and
// a 4-bit length minus one per element) and the two-byte form (profile 0x100x: an 8-bit id and
// an 8-bit length). Browsers put the mid, abs-send-time, the transport-wide sequence number and
// the audio level there. Pure: a view into the packet's extension words.
#include <cstdint>
#include <optional>
#include <span>

#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

// The value of element `id` in the packet's extension, or nothing (no such element, another
// profile, or elements that run past the extension).
std::optional<bytes> find_extension(const header& h, std::uint8_t id) noexcept;

// The transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2),
// when element `id` carries it.
std::optional<std::uint16_t> transport_sequence(const header& h, std::uint8_t id) noexcept;

}  // namespace junction::media::rtp
