#pragma once
// What arrives on a WebRTC port, told apart by its first byte (RFC 7983 §7, and RFC 5761 §4 for
// RTP against RTCP): one socket carries a peer's STUN checks, its DTLS handshake and its SRTP and
// SRTCP packets together.
#include <cstdint>
#include <span>

namespace junction::webrtc {

enum class packet_kind : std::uint8_t { stun, dtls, rtp, rtcp, other };

constexpr packet_kind classify(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty()) return packet_kind::other;
  const std::uint8_t b = datagram[0];
  if (b <= 3) return packet_kind::stun;
  if (b >= 20 && b <= 63) return packet_kind::dtls;
  if (b >= 128 && b <= 191) {
    if (datagram.size() < 2) return packet_kind::other;
    // RTCP packet types 192-223 (SR 200, RR 201, ... PSFB 206, XR 207) sit where RTP's marker
    // bit and payload types 64-95 would, which no dynamic mapping uses (RFC 5761 §4).
    const std::uint8_t type = datagram[1];
    return type >= 192 && type <= 223 ? packet_kind::rtcp : packet_kind::rtp;
  }
  return packet_kind::other;  // ZRTP (16-19), TURN channels (64-79), anything else
}

}  // namespace junction::webrtc
