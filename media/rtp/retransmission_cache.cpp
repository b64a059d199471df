#include "media/rtp/retransmission_cache.hpp"

#include <algorithm>
#include <random>

#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

retransmission_cache::retransmission_cache(options o) : options_(o), slots_(std::max<std::size_t>(o.capacity, 1)) {
  // RFC 3550 §5.1: the RTX stream's first sequence number is random, like any stream's.
  rtx_sequence_ = static_cast<std::uint16_t>(std::random_device{}());
}

void retransmission_cache::store(const header& h, shared_buffer payload, clock::time_point now) {
  slot& s = slots_[h.sequence % slots_.size()];
  s.payload = std::move(payload);
  s.timestamp = h.timestamp;
  s.ssrc = h.ssrc;
  s.sequence = h.sequence;
  s.payload_type = h.payload_type;
  s.marker = h.marker;
  s.sent = now;
  s.resent = {};
  s.used = true;
}

void retransmission_cache::store(std::span<const std::uint8_t> packet, clock::time_point now) {
  auto parsed = parse_packet(packet);
  if (!parsed.ok()) return;
  store(parsed.packet->header, shared_buffer::copy_of(std::as_bytes(parsed.packet->payload)), now);
}

std::vector<std::vector<std::uint8_t>> retransmission_cache::answer(std::span<const std::uint16_t> lost,
                                                                    clock::time_point now) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const std::uint16_t sequence : lost) {
    slot& s = slots_[sequence % slots_.size()];
    if (!s.used || s.sequence != sequence || now - s.sent > options_.max_age) {
      ++stats_.missing;
      continue;
    }
    if (s.resent != clock::time_point{} && now - s.resent < options_.min_interval) {
      ++stats_.suppressed;
      continue;
    }
    s.resent = now;
    ++stats_.resent;
    header h;
    h.payload_type = s.payload_type;
    h.marker = s.marker;
    h.sequence = sequence;
    h.timestamp = s.timestamp;
    h.ssrc = s.ssrc;
    const auto stored = s.payload.bytes();
    const bytes original{reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size()};
    std::vector<std::uint8_t> packet;
    if (!options_.rtx_payload_type) {
      write_packet(h, original, packet);
      out.push_back(std::move(packet));
      continue;
    }
    h.payload_type = *options_.rtx_payload_type;
    h.ssrc = options_.rtx_ssrc;
    h.sequence = rtx_sequence_++;
    std::vector<std::uint8_t> payload;
    payload.reserve(2 + original.size());
    payload.push_back(static_cast<std::uint8_t>(sequence >> 8));
    payload.push_back(static_cast<std::uint8_t>(sequence));
    payload.insert(payload.end(), original.begin(), original.end());
    write_packet(h, payload, packet);
    out.push_back(std::move(packet));
  }
  return out;
}

}  // namespace junction::media::rtp
