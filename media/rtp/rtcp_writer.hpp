#pragma once
// Writing one RTCP packet (RFC 3550 §6.4): the common header first, with a length filled in once
// the body is written and padded to 32 bits. Shared by the writers of rtcp.cpp and
// congestion_feedback.cpp.
#include <cstdint>
#include <vector>

#include "media/rtp/big_endian.hpp"

namespace junction::media::rtp {

inline constexpr std::uint8_t rtcp_type_sr = 200, rtcp_type_rr = 201, rtcp_type_sdes = 202, rtcp_type_bye = 203,
                              rtcp_type_rtpfb = 205, rtcp_type_psfb = 206;

// Starts a packet; returns where it starts, for finish_rtcp_packet.
inline std::size_t begin_rtcp_packet(std::vector<std::uint8_t>& out, std::uint8_t count, std::uint8_t type) {
  const std::size_t at = out.size();
  out.push_back(static_cast<std::uint8_t>(0x80 | (count & 0x1F)));
  out.push_back(type);
  put16(out, 0);
  return at;
}

inline void finish_rtcp_packet(std::vector<std::uint8_t>& out, std::size_t at) {
  while ((out.size() - at) % 4) out.push_back(0);
  const std::size_t words = (out.size() - at) / 4 - 1;
  out[at + 2] = static_cast<std::uint8_t>(words >> 8);
  out[at + 3] = static_cast<std::uint8_t>(words);
}

}  // namespace junction::media::rtp
