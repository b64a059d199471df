#include "media/rtp/audio_payload.hpp"

#include <cstdio>

namespace junction::media::rtp {

std::uint32_t rtp_clock_rate(media::codec c, int sample_rate) noexcept {
  switch (c) {
    case media::codec::g722: return 8000;
    case media::codec::opus: return 48000;
    default: return static_cast<std::uint32_t>(sample_rate);
  }
}

std::uint32_t rtp_units(media::codec c, int sample_rate, int samples) noexcept {
  if (sample_rate <= 0) return 0;
  return static_cast<std::uint32_t>(std::uint64_t(samples) * rtp_clock_rate(c, sample_rate) / static_cast<std::uint64_t>(sample_rate));
}

void write_aac_hbr(bytes au, std::vector<std::uint8_t>& out) {
  const auto size = static_cast<std::uint16_t>(au.size() & 0x1FFF);
  out.push_back(0);
  out.push_back(16);  // AU-headers-length: one 16-bit header, in bits
  out.push_back(static_cast<std::uint8_t>(size >> 5));
  out.push_back(static_cast<std::uint8_t>((size & 0x1F) << 3));  // AU-index 0
  out.insert(out.end(), au.begin(), au.end());
}

std::optional<std::vector<bytes>> read_aac_hbr(bytes p) {
  if (p.size() < 2) return std::nullopt;
  const std::size_t header_bits = std::size_t{p[0]} << 8 | p[1];
  if (header_bits % 16 != 0) return std::nullopt;  // 13 + 3 bits each in AAC-hbr
  const std::size_t count = header_bits / 16, header_bytes = 2 + 2 * count;
  if (count == 0 || count > 64 || header_bytes > p.size()) return std::nullopt;
  std::vector<bytes> out;
  std::size_t at = header_bytes;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t size = (std::size_t{p[2 + 2 * i]} << 5) | (p[3 + 2 * i] >> 3);
    if (size > p.size() - at) return std::nullopt;
    out.push_back(p.subspan(at, size));
    at += size;
  }
  return out;
}

std::string aac_hbr_fmtp(bytes asc) {
  std::string config;
  for (auto b : asc) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", b);
    config += hex;
  }
  return "streamtype=5;profile-level-id=15;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=" + config;
}

}  // namespace junction::media::rtp
