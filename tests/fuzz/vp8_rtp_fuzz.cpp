// The VP8 depacketizer on arbitrary RTP payload sequences. Input: records of RTP payloads
// (rtp_records.hpp). Checks, beyond "no crash": every frame it emits is a 'vp08'
// coded frame with data, within the size limit, whose keyframe flag is its data's.
#include <cstdint>
#include <cstdlib>

#include "rtp_records.hpp"

#include "media/vp8/rtp_payload.hpp"

using namespace junction;
using namespace junction::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t limit = 1 << 14;
  vp8::rtp_depacketizer d(limit);
  std::vector<frame> out;
  fuzz::for_each_packet(data, size, [&](const rtp::packet& p) { d.push(p, out); });
  d.flush(out);
  for (const auto& f : out) {
    const auto frame = vp8::frame_data(f);
    if (f.codec != codec::vp8 || frame.empty() || frame.size() > limit) std::abort();
    if (f.keyframe != vp8::is_keyframe(frame)) std::abort();
  }
  return 0;
}
