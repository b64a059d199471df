#pragma once
// What arrives on a WebRTC port, told apart by its first byte (RFC 7983 §7, and RFC 5761 §4 for
// RTP against RTCP): one socket carries a peer's STUN checks, its DTLS handshake and its SRTP and
// SRTCP packets together.
#include <cstdint>
#include <span>

#include "media/rtp/packet.hpp"

namespace junction::webrtc {

enum class packet_kind : std::uint8_t { stun, dtls, rtp, rtcp, other };

inline packet_kind classify(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty()) return packet_kind::other;
  const std::uint8_t b = datagram[0];
  if (b <= 3) return packet_kind::stun;
  if (b >= 20 && b <= 63) return packet_kind::dtls;
  if (b >= 128 && b <= 191) {
    if (datagram.size() < 2) return packet_kind::other;
    return media::rtp::is_rtcp(datagram) ? packet_kind::rtcp : packet_kind::rtp;  // RFC 5761 §4
  }
  return packet_kind::other;  // ZRTP (16-19), TURN channels (64-79), anything else
}

}  // namespace junction::webrtc
