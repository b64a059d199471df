#include "media/rtp/transport_cc_receiver.hpp"

#include <limits>

namespace junction::media::rtp {
namespace {

constexpr std::int64_t reference_unit_us = 64'000;
constexpr std::size_t max_kept = 1 << 14;

}  // namespace

void transport_cc_receiver::on_packet(std::uint16_t sequence, std::int64_t arrival_us) {
  std::int64_t unwrapped = sequence;
  if (last_) {
    const auto delta = static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(*last_));
    unwrapped = *last_ + delta;
  }
  if (!last_ || unwrapped > *last_) last_ = unwrapped;
  if (next_ && unwrapped < *next_) return;  // told of already (as missing): too late to say more
  arrivals_.emplace(unwrapped, arrival_us);
  // A sender that never gets its feedback sent: forget the oldest.
  while (arrivals_.size() > max_kept) arrivals_.erase(arrivals_.begin());
}

std::optional<transport_feedback> transport_cc_receiver::take(std::uint32_t sender_ssrc, std::uint32_t media_ssrc) {
  if (arrivals_.empty()) return std::nullopt;
  std::int64_t base = next_ ? *next_ : arrivals_.begin()->first;
  if (arrivals_.begin()->first > base + static_cast<std::int64_t>(transport_feedback::max_packets))
    base = arrivals_.begin()->first;  // a gap too long to report: start after it
  transport_feedback f;
  f.sender_ssrc = sender_ssrc;
  f.media_ssrc = media_ssrc;
  f.base_sequence = static_cast<std::uint16_t>(base);
  f.feedback_count = count_;
  const std::int64_t first_arrival = arrivals_.begin()->second;
  const std::int64_t reference = first_arrival / reference_unit_us;
  f.reference_time = static_cast<std::int32_t>(reference & 0xFFFFFF);
  if (f.reference_time & 0x800000) f.reference_time -= 0x1000000;  // 24-bit signed
  std::int64_t previous = reference * reference_unit_us;
  std::int64_t sequence = base;
  auto it = arrivals_.begin();
  for (; it != arrivals_.end() && f.packets.size() < transport_feedback::max_packets; ++it) {
    const std::int64_t delta = (it->second - previous) / transport_feedback::delta_unit_us;
    // The first always fits (its reference is its own arrival, floored); a later one that does
    // not goes in the next feedback, with a reference time of its own.
    if (delta < std::numeric_limits<std::int16_t>::min() || delta > std::numeric_limits<std::int16_t>::max()) break;
    while (sequence < it->first) {
      f.packets.push_back({false, 0});
      ++sequence;
    }
    f.packets.push_back({true, static_cast<std::int16_t>(delta)});
    previous += delta * transport_feedback::delta_unit_us;
    ++sequence;
  }
  arrivals_.erase(arrivals_.begin(), it);
  next_ = sequence;
  if (f.packets.empty()) return std::nullopt;
  ++count_;
  return f;
}

}  // namespace junction::media::rtp
