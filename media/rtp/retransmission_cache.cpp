#include "media/rtp/retransmission_cache.hpp"

#include <algorithm>
#include <random>

#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

retransmission_cache::retransmission_cache(options o) : options_(o), slots_(std::max<std::size_t>(o.capacity, 1)) {
  // RFC 3550 §5.1: the RTX stream's first sequence number is random, like any stream's.
  rtx_sequence_ = static_cast<std::uint16_t>(std::random_device{}());
}

void retransmission_cache::store(std::span<const std::uint8_t> packet, clock::time_point now) {
  auto parsed = parse_packet(packet);
  if (!parsed.ok()) return;
  const std::uint16_t sequence = parsed.packet->header.sequence;
  slot& s = slots_[sequence % slots_.size()];
  s.packet.assign(packet.begin(), packet.end());
  s.sequence = sequence;
  s.sent = now;
  s.resent = {};
  s.used = true;
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
    if (!options_.rtx_payload_type) {
      out.push_back(s.packet);
      continue;
    }
    auto original = parse_packet(s.packet);
    if (!original.ok()) continue;  // stored only when it parsed
    header h = original.packet->header;
    h.payload_type = *options_.rtx_payload_type;
    h.ssrc = options_.rtx_ssrc;
    h.sequence = rtx_sequence_++;
    std::vector<std::uint8_t> payload;
    payload.reserve(2 + original.packet->payload.size());
    payload.push_back(static_cast<std::uint8_t>(sequence >> 8));
    payload.push_back(static_cast<std::uint8_t>(sequence));
    payload.insert(payload.end(), original.packet->payload.begin(), original.packet->payload.end());
    std::vector<std::uint8_t> rtx;
    write_packet(h, payload, rtx);
    out.push_back(std::move(rtx));
  }
  return out;
}

}  // namespace junction::media::rtp
