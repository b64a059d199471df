#include "media/rtp/congestion_feedback.hpp"

#include <algorithm>
#include <limits>

#include "media/rtp/big_endian.hpp"
#include "media/rtp/rtcp_writer.hpp"

namespace junction::media::rtp {
namespace {

constexpr std::uint8_t format_remb = 15;  // payload-specific feedback, "application layer"
constexpr std::uint8_t format_transport_cc = 15;
constexpr std::uint8_t symbol_missing = 0, symbol_small = 1, symbol_large = 2;
constexpr std::size_t max_run = 0x1FFF;

std::uint8_t symbol_of(const transport_feedback::status& s) {
  if (!s.received) return symbol_missing;
  return s.delta >= 0 && s.delta <= 255 ? symbol_small : symbol_large;
}

}  // namespace

std::optional<remb> read_remb(std::uint32_t sender_ssrc, std::span<const std::uint8_t> fci) {
  if (fci.size() < 8 || fci[0] != 'R' || fci[1] != 'E' || fci[2] != 'M' || fci[3] != 'B') return std::nullopt;
  const std::size_t n = fci[4];
  if (fci.size() < 8 + 4 * n) return std::nullopt;
  const unsigned exponent = fci[5] >> 2;
  const std::uint64_t mantissa = std::uint64_t{fci[5] & 3u} << 16 | std::uint64_t{fci[6]} << 8 | fci[7];
  remb r;
  r.sender_ssrc = sender_ssrc;
  // 18 bits shifted by up to 63: past 64 bits it is "as much as you like".
  r.bitrate = mantissa != 0 && exponent > 46 && (mantissa >> (64 - exponent)) != 0
                  ? std::numeric_limits<std::uint64_t>::max()
                  : mantissa << exponent;
  for (std::size_t i = 0; i < n; ++i) r.ssrcs.push_back(read32(fci.data() + 8 + 4 * i));
  return r;
}

void write_remb(const remb& r, std::vector<std::uint8_t>& out) {
  const std::size_t at = begin_rtcp_packet(out, format_remb, rtcp_type_psfb);
  put32(out, r.sender_ssrc);
  put32(out, 0);  // the media source is not used (the SSRCs below say what the estimate is for)
  for (char c : {'R', 'E', 'M', 'B'}) out.push_back(static_cast<std::uint8_t>(c));
  const std::size_t n = std::min<std::size_t>(r.ssrcs.size(), 255);
  out.push_back(static_cast<std::uint8_t>(n));
  std::uint64_t mantissa = r.bitrate;
  unsigned exponent = 0;
  while (mantissa >= (1u << 18)) {
    mantissa >>= 1;
    ++exponent;
  }
  out.push_back(static_cast<std::uint8_t>(exponent << 2 | mantissa >> 16));
  out.push_back(static_cast<std::uint8_t>(mantissa >> 8));
  out.push_back(static_cast<std::uint8_t>(mantissa));
  for (std::size_t i = 0; i < n; ++i) put32(out, r.ssrcs[i]);
  finish_rtcp_packet(out, at);
}

std::optional<transport_feedback> read_transport_feedback(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                                          std::span<const std::uint8_t> fci) {
  if (fci.size() < 8) return std::nullopt;
  transport_feedback f;
  f.sender_ssrc = sender_ssrc;
  f.media_ssrc = media_ssrc;
  f.base_sequence = read16(fci.data());
  const std::size_t count = read16(fci.data() + 2);
  if (count > transport_feedback::max_packets) return std::nullopt;
  std::int32_t reference = fci[4] << 16 | fci[5] << 8 | fci[6];
  if (reference & 0x800000) reference -= 0x1000000;
  f.reference_time = reference;
  f.feedback_count = fci[7];

  std::vector<std::uint8_t> symbols;
  symbols.reserve(count);
  std::size_t at = 8;
  while (symbols.size() < count) {
    if (at + 2 > fci.size()) return std::nullopt;
    const std::uint16_t chunk = read16(fci.data() + at);
    at += 2;
    if (!(chunk & 0x8000)) {  // run length: a symbol and how many times
      const auto symbol = static_cast<std::uint8_t>(chunk >> 13 & 3);
      if (symbol == 3) return std::nullopt;
      const std::size_t run = std::min<std::size_t>(chunk & max_run, count - symbols.size());
      symbols.insert(symbols.end(), run, symbol);
    } else if (!(chunk & 0x4000)) {  // fourteen one-bit symbols: missing or small
      for (int i = 0; i < 14 && symbols.size() < count; ++i) symbols.push_back(static_cast<std::uint8_t>(chunk >> (13 - i) & 1));
    } else {  // seven two-bit symbols
      for (int i = 0; i < 7 && symbols.size() < count; ++i) {
        const auto symbol = static_cast<std::uint8_t>(chunk >> (12 - 2 * i) & 3);
        if (symbol == 3) return std::nullopt;
        symbols.push_back(symbol);
      }
    }
  }
  f.packets.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto& p = f.packets[i];
    if (symbols[i] == symbol_small) {
      if (at + 1 > fci.size()) return std::nullopt;
      p = {true, fci[at]};
      at += 1;
    } else if (symbols[i] == symbol_large) {
      if (at + 2 > fci.size()) return std::nullopt;
      p = {true, static_cast<std::int16_t>(read16(fci.data() + at))};
      at += 2;
    }
  }
  return f;
}

void write_transport_feedback(const transport_feedback& f, std::vector<std::uint8_t>& out) {
  const std::size_t n = std::min(f.packets.size(), transport_feedback::max_packets);
  const std::size_t at = begin_rtcp_packet(out, format_transport_cc, rtcp_type_rtpfb);
  put32(out, f.sender_ssrc);
  put32(out, f.media_ssrc);
  put16(out, f.base_sequence);
  put16(out, static_cast<std::uint16_t>(n));
  const auto reference = static_cast<std::uint32_t>(f.reference_time) & 0xFFFFFF;
  out.push_back(static_cast<std::uint8_t>(reference >> 16));
  out.push_back(static_cast<std::uint8_t>(reference >> 8));
  out.push_back(static_cast<std::uint8_t>(reference));
  out.push_back(f.feedback_count);

  for (std::size_t i = 0; i < n;) {
    const std::uint8_t symbol = symbol_of(f.packets[i]);
    std::size_t run = 1;
    while (i + run < n && run < max_run && symbol_of(f.packets[i + run]) == symbol) ++run;
    if (run >= 7) {
      put16(out, static_cast<std::uint16_t>(symbol << 13 | run));
      i += run;
      continue;
    }
    std::uint16_t chunk = 0xC000;
    for (std::size_t k = 0; k < 7 && i + k < n; ++k)
      chunk = static_cast<std::uint16_t>(chunk | symbol_of(f.packets[i + k]) << (12 - 2 * k));
    put16(out, chunk);
    i += std::min<std::size_t>(7, n - i);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = f.packets[i];
    const std::uint8_t symbol = symbol_of(p);
    if (symbol == symbol_small)
      out.push_back(static_cast<std::uint8_t>(p.delta));
    else if (symbol == symbol_large)
      put16(out, static_cast<std::uint16_t>(p.delta));
  }
  finish_rtcp_packet(out, at);
}

}  // namespace junction::media::rtp
