#pragma once
// RTP packets (RFC 3550 §5.1): the fixed header, CSRCs, the header extension (§5.3.1) and
// padding, parsed as views into the datagram and written into a caller's buffer. Pure: bytes in,
// fields out. Also the RFC 5761 rule that tells RTP from RTCP on one port (rtcp-mux).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/rtp/errors.hpp"

namespace junction::media::rtp {

using bytes = std::span<const std::uint8_t>;

struct header {
  std::uint8_t payload_type = 0;  // 7 bits
  bool marker = false;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint8_t csrc_count = 0;
  std::array<std::uint32_t, 15> csrc{};
  bool has_extension = false;
  std::uint16_t extension_profile = 0;  // e.g. 0xBEDE for one-byte RFC 8285 elements
  bytes extension{};                     // the extension's words, without its 4-byte header
};

struct packet {
  rtp::header header;
  bytes payload;
  std::uint8_t padding = 0;  // bytes of padding that followed the payload
};

struct parse_result {
  std::optional<rtp::packet> packet;
  std::error_code error;  // why the datagram is not an RTP packet (category "rtp")
  bool ok() const noexcept { return packet.has_value(); }
};

parse_result parse_packet(bytes datagram) noexcept;

// Appends the packet (header, payload, no padding) to `out`; returns the bytes written.
std::size_t write_packet(const header& h, bytes payload, std::vector<std::uint8_t>& out);

// RFC 5761 §4: with RTP and RTCP on one port, a second byte of 192–223 (RTCP types 200–204,
// 205–207 and those reserved near them) is RTCP; RTP payload types 64–95 are avoided.
inline bool is_rtcp(bytes datagram) noexcept {
  return datagram.size() >= 2 && datagram[1] >= 192 && datagram[1] <= 223;
}

// Sequence numbers compared modulo 2^16 (RFC 3550 A.1): true when `a` comes after `b`.
inline bool sequence_after(std::uint16_t a, std::uint16_t b) noexcept {
  return a != b && static_cast<std::uint16_t>(a - b) < 0x8000;
}

}  // namespace junction::media::rtp
