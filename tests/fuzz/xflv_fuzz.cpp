// siprtmp's x-flv RTP payload on arbitrary bytes. Input: records of [length hi][length lo]
// [payload] fed to the depacketizer; then the whole input, as an audio frame's body, sent
// through the packetizer and back. Checks, beyond "no crash": the round trip gives the frame
// back byte for byte, and whatever the depacketizer emits is an audio, video or data frame.
#include <cstdint>
#include <cstdlib>

#include "media/xflv/rtp_payload.hpp"

using namespace junction;
using namespace junction::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  xflv::depacketizer rx;
  std::size_t at = 0;
  while (at + 2 <= size) {
    const std::size_t n = std::min<std::size_t>(std::size_t{data[at]} << 8 | data[at + 1], size - at - 2);
    if (auto f = rx.push({data + at + 2, n}))
      if (f->track != track::audio && f->track != track::video && f->track != track::data) std::abort();
    at += 2 + n;
  }
  xflv::packetizer tx;
  xflv::depacketizer back;
  auto sent = make_frame(track::audio, 1234, shared_buffer::copy_of({reinterpret_cast<const std::byte*>(data), size}));
  std::optional<frame> got;
  for (const auto& p : tx.packetize(sent)) got = back.push(p);
  if (size + 12 <= xflv::max_assembled) {
    if (!got || got->timestamp != 1234 || got->payload.size() != size ||
        !std::equal(got->payload.bytes().begin(), got->payload.bytes().end(), sent.payload.bytes().begin()))
      std::abort();
  }
  return 0;
}
