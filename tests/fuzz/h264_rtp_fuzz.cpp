// The H.264 depacketizer on arbitrary RTP payload sequences, the packetizer on arbitrary FLV
// video bodies, and the SPS reader on the whole input. Input: records of [flags][length hi][length lo][payload]; flags bit 0 is the
// marker, bit 1 a sequence gap, bit 2 a new timestamp. Checks, beyond "no crash": every frame
// the depacketizer emits is a well-formed FLV AVC body (its NAL lengths add up), and every
// packet the packetizer writes parses as RTP.
#include <cstdint>
#include <cstdlib>

#include "media/h264/rtp_payload.hpp"
#include "media/h264/sps.hpp"

using namespace junction;
using namespace junction::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  h264::rtp_depacketizer d(1 << 16);
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
    p.header.sequence = seq++;
    p.header.timestamp = ts;
    p.header.marker = flags & 1;
    p.payload = rtp::bytes(data + at + 3, n);
    d.push(p, out);
    at += 3 + n;
  }
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
