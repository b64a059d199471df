#include "media/rtp/packet.hpp"

#include "media/rtp/big_endian.hpp"

namespace junction::media::rtp {

parse_result parse_packet(bytes d) noexcept {
  parse_result r;
  if (d.size() < 12) {
    r.error = packet_errc::too_short;
    return r;
  }
  if ((d[0] >> 6) != 2) {
    r.error = packet_errc::bad_version;
    return r;
  }
  packet p;
  const bool padded = d[0] & 0x20;
  p.header.has_extension = d[0] & 0x10;
  p.header.csrc_count = d[0] & 0x0F;
  p.header.marker = d[1] & 0x80;
  p.header.payload_type = d[1] & 0x7F;
  p.header.sequence = read16(&d[2]);
  p.header.timestamp = read32(&d[4]);
  p.header.ssrc = read32(&d[8]);
  std::size_t at = 12;
  if (d.size() < at + 4u * p.header.csrc_count) {
    r.error = packet_errc::bad_csrc_count;
    return r;
  }
  for (std::size_t i = 0; i < p.header.csrc_count; ++i, at += 4) p.header.csrc[i] = read32(&d[at]);
  if (p.header.has_extension) {
    if (d.size() < at + 4) {
      r.error = packet_errc::bad_extension;
      return r;
    }
    p.header.extension_profile = read16(&d[at]);
    std::size_t words = read16(&d[at + 2]);
    at += 4;
    if (d.size() < at + 4 * words) {
      r.error = packet_errc::bad_extension;
      return r;
    }
    p.header.extension = d.subspan(at, 4 * words);
    at += 4 * words;
  }
  std::size_t end = d.size();
  if (padded) {
    // The last octet counts the padding, itself included (RFC 3550 §5.1).
    std::uint8_t count = d[end - 1];
    if (count == 0 || count > end - at) {
      r.error = packet_errc::bad_padding;
      return r;
    }
    p.padding = count;
    end -= count;
  }
  p.payload = d.subspan(at, end - at);
  r.packet = p;
  return r;
}

std::size_t write_packet(const header& h, bytes payload, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  const std::uint8_t count = h.csrc_count > 15 ? 15 : h.csrc_count;
  out.push_back(static_cast<std::uint8_t>(0x80 | (h.has_extension ? 0x10 : 0) | count));
  out.push_back(static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F)));
  put16(out, h.sequence);
  put32(out, h.timestamp);
  put32(out, h.ssrc);
  for (std::size_t i = 0; i < count; ++i) put32(out, h.csrc[i]);
  if (h.has_extension) {
    put16(out, h.extension_profile);
    const std::size_t words = (h.extension.size() + 3) / 4;
    put16(out, static_cast<std::uint16_t>(words));
    out.insert(out.end(), h.extension.begin(), h.extension.end());
    out.resize(out.size() + (words * 4 - h.extension.size()), 0);
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out.size() - start;
}

}  // namespace junction::media::rtp
