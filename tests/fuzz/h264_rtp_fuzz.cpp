// The H.264 depacketizer on arbitrary RTP payload sequences, the packetizer on arbitrary FLV
// video bodies, and the SPS reader on the whole input. Input: records of RTP payloads
// (rtp_records.hpp). Checks, beyond "no crash": every frame
// the depacketizer emits is a well-formed FLV AVC body (its NAL lengths add up), and every
// packet the packetizer writes parses as RTP.
#include <cstdint>
#include <cstdlib>

#include "rtp_records.hpp"

#include "media/h264/rtp_payload.hpp"
#include "media/h264/sps.hpp"

using namespace junction;
using namespace junction::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  h264::rtp_depacketizer d(1 << 16);
  std::vector<frame> out;
  fuzz::for_each_packet(data, size, [&](const rtp::packet& p) { d.push(p, out); });
  d.flush(out);
  for (const auto& f : out) {
    auto b = f.payload.bytes();
    if (b.size() < 5 || (static_cast<std::uint8_t>(b[0]) & 0x0F) != 7) std::abort();
    if (b[1] == std::byte{1}) {
      auto nals = h264::split_avcc({reinterpret_cast<const std::uint8_t*>(b.data()) + 5, b.size() - 5}, 4);
      if (!nals || nals->empty()) std::abort();
    }
  }
  // The same bytes as an FLV video body, after a sequence header made of the first frame's sets.
  std::vector<std::vector<std::uint8_t>> packets;
  h264::rtp_packetizer p({.payload_type = 96, .ssrc = 1, .packetization_mode = 1, .mtu = 100, .first_sequence = 0,
                          .first_timestamp = 0});
  if (!out.empty()) p.packetize(out.front(), packets);
  p.packetize(make_frame(track::video, 40, shared_buffer::copy_of({reinterpret_cast<const std::byte*>(data), size})),
              packets);
  for (const auto& packet : packets)
    if (!rtp::parse_packet(packet).ok()) std::abort();
  // The same bytes as an SPS: a size within the limits, or nothing.
  if (auto picture = h264::sps_picture_size({data, size});
      picture && (picture->width > 16384 || picture->height > 32768))
    std::abort();
  return 0;
}
