// The VP8 depacketizer on arbitrary RTP payload sequences. Input: records of [flags][length hi]
// [length lo][payload]; flags bit 0 is the marker, bit 1 a sequence gap, bit 2 a new timestamp,
// bit 3 a packet from the past. Checks, beyond "no crash": every frame it emits is a 'vp08'
// coded frame with data, within the size limit, whose keyframe flag is its data's.
#include <cstdint>
#include <cstdlib>

#include "media/vp8/rtp_payload.hpp"

using namespace junction;
using namespace junction::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t limit = 1 << 14;
  vp8::rtp_depacketizer d(limit);
  std::vector<frame> out;
  std::uint16_t seq = 0;
  std::uint32_t ts = 0;
  std::size_t at = 0;
  while (at + 3 <= size) {
    const std::uint8_t flags = data[at];
    const std::size_t n = std::min<std::size_t>(std::size_t{data[at + 1]} << 8 | data[at + 2], size - at - 3);
    rtp::packet p;
    if (flags & 2) seq += 2;
    if (flags & 4) ts += 3000;
    p.header.sequence = (flags & 8) ? static_cast<std::uint16_t>(seq - 5) : seq++;
    p.header.timestamp = ts;
    p.header.marker = flags & 1;
    p.payload = rtp::bytes(data + at + 3, n);
    d.push(p, out);
    at += 3 + n;
  }
  d.flush(out);
  for (const auto& f : out) {
    const auto frame = vp8::frame_data(f);
    if (f.codec != codec::vp8 || frame.empty() || frame.size() > limit) std::abort();
    if (f.keyframe != vp8::is_keyframe(frame)) std::abort();
  }
  return 0;
}
