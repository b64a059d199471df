#include "media/xflv/rtp_payload.hpp"

#include <algorithm>

#include "media/rtp/big_endian.hpp"

namespace junction::media::xflv {
namespace {

constexpr std::uint32_t magic = 0x52544D50;  // "RTMP"
constexpr std::size_t assembled_header = 12;

}  // namespace

std::vector<std::vector<std::uint8_t>> packetizer::packetize(const frame& f) {
  std::vector<std::vector<std::uint8_t>> out;
  const auto body = f.payload.bytes();
  const std::size_t total = assembled_header + body.size();
  if (total > max_assembled) {
    ++too_big_;
    return out;
  }
  std::vector<std::uint8_t> message;
  message.reserve(total);
  rtp::put32(message, static_cast<std::uint32_t>(f.track));
  rtp::put32(message, static_cast<std::uint32_t>(body.size()));
  rtp::put32(message, f.timestamp);
  const auto* b = reinterpret_cast<const std::uint8_t*>(body.data());
  message.insert(message.end(), b, b + body.size());
  const std::uint32_t seq = sequence_++;
  std::uint16_t chunk = 0;
  for (std::size_t at = 0; at < message.size(); at += max_chunk, ++chunk) {
    const std::size_t n = std::min(max_chunk, message.size() - at);
    std::vector<std::uint8_t> p;
    p.reserve(12 + n);
    rtp::put32(p, magic);
    rtp::put32(p, seq);
    rtp::put16(p, chunk);
    if (chunk == 0) rtp::put16(p, static_cast<std::uint16_t>(message.size()));
    p.insert(p.end(), message.begin() + static_cast<std::ptrdiff_t>(at), message.begin() + static_cast<std::ptrdiff_t>(at + n));
    out.push_back(std::move(p));
  }
  return out;
}

void depacketizer::drop_partial() {
  if (assembling_) ++dropped_;
  assembling_ = false;
  message_.clear();
}

std::optional<frame> depacketizer::push(bytes p) {
  if (p.size() < 10 || rtp::read32(p.data()) != magic) {
    ++malformed_;
    return std::nullopt;
  }
  const std::uint32_t seq = rtp::read32(p.data() + 4);
  const std::uint16_t chunk = rtp::read16(p.data() + 8);
  std::size_t at = 10;
  if (chunk == 0) {
    if (p.size() < 12) {
      ++malformed_;
      return std::nullopt;
    }
    drop_partial();  // a new message: whatever was half-built is lost
    expected_ = rtp::read16(p.data() + 10);
    at = 12;
    if (expected_ < assembled_header) {
      ++malformed_;
      return std::nullopt;
    }
    assembling_ = true;
    sequence_ = seq;
    next_chunk_ = 0;
  } else if (!assembling_ || seq != sequence_ || chunk != next_chunk_) {
    // A chunk of a message whose start (or a chunk before this one) never came.
    drop_partial();
    return std::nullopt;
  }
  message_.insert(message_.end(), p.begin() + static_cast<std::ptrdiff_t>(at), p.end());
  ++next_chunk_;
  if (message_.size() < expected_) return std::nullopt;
  std::vector<std::uint8_t> m = std::move(message_);
  assembling_ = false;
  message_.clear();
  const std::uint32_t type = rtp::read32(m.data()), size = rtp::read32(m.data() + 4), time = rtp::read32(m.data() + 8);
  if (m.size() != expected_ || size != m.size() - assembled_header || (type != 8 && type != 9 && type != 18)) {
    ++malformed_;
    return std::nullopt;
  }
  const auto* body = reinterpret_cast<const std::byte*>(m.data() + assembled_header);
  return make_frame(static_cast<track>(type), time, shared_buffer::copy_of({body, size}));
}

}  // namespace junction::media::xflv
