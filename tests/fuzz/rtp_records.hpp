#pragma once
// The input of the depacketizer fuzz targets: records of [flags][length hi][length lo][payload]
// made into RTP packets. Flags: bit 0 the marker, bit 1 a sequence gap (two numbers skipped),
// bit 2 a new timestamp (3000 later), bit 3 a packet from the past (five numbers back, not
// counted). A length past the end takes what is left.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "media/rtp/packet.hpp"

namespace junction::fuzz {

template <class F>
void for_each_packet(const std::uint8_t* data, std::size_t size, F&& f) {
  std::uint16_t seq = 0;
  std::uint32_t ts = 0;
  std::size_t at = 0;
  while (at + 3 <= size) {
    const std::uint8_t flags = data[at];
    const std::size_t n = std::min<std::size_t>(std::size_t{data[at + 1]} << 8 | data[at + 2], size - at - 3);
    media::rtp::packet p;
    if (flags & 2) seq += 2;
    if (flags & 4) ts += 3000;
    p.header.sequence = (flags & 8) ? static_cast<std::uint16_t>(seq - 5) : seq++;
    p.header.timestamp = ts;
    p.header.marker = flags & 1;
    p.payload = media::rtp::bytes(data + at + 3, n);
    f(p);
    at += 3 + n;
  }
}

}  // namespace junction::fuzz
