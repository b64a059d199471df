#include "media/rtp/jitter_buffer.hpp"

namespace junction::media::rtp {

std::int64_t jitter_buffer::extend(std::uint16_t sequence) const noexcept {
  // The extended number closest to the one due next: ±2^15 around it.
  auto delta = static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - static_cast<std::uint16_t>(next_)));
  return next_ + delta;
}

void jitter_buffer::push(std::vector<std::uint8_t> datagram, std::uint16_t sequence, std::int64_t now_us) {
  ++counters_.received;
  if (!started_) {
    started_ = true;
    next_ = sequence;
  }
  const std::int64_t ext = extend(sequence);
  if (ext < next_) {
    ++counters_.late;  // its turn has passed: given up as lost, or already out
    return;
  }
  if (waiting_.contains(ext)) {
    ++counters_.duplicates;
    return;
  }
  waiting_.emplace(ext, entry{std::move(datagram), sequence, now_us});
  // Over the bound, the next pop_ready releases the oldest at once (whatever it still missed
  // is lost): the buffer trades completeness for bounded memory and delay.
  if (waiting_.size() > s_.max_packets) ++counters_.overflows;
}

void jitter_buffer::release(std::map<std::int64_t, entry>::iterator it, std::vector<entry>& out) {
  if (it->first > next_) counters_.lost += static_cast<std::uint64_t>(it->first - next_);
  next_ = it->first + 1;
  out.push_back(std::move(it->second));
  waiting_.erase(it);
  ++counters_.released;
}

void jitter_buffer::pop_ready(std::int64_t now_us, std::vector<entry>& out) {
  while (!waiting_.empty()) {
    auto first = waiting_.begin();
    const bool in_order = first->first == next_;
    const bool waited_enough = now_us - first->second.arrival_us >= s_.delay.count();
    const bool over = waiting_.size() > s_.max_packets;
    if (!in_order && !waited_enough && !over) break;
    release(first, out);
  }
}

std::optional<std::int64_t> jitter_buffer::next_deadline() const {
  if (waiting_.empty()) return std::nullopt;
  const auto& first = waiting_.begin()->second;
  if (waiting_.begin()->first == next_) return first.arrival_us;  // ready now
  return first.arrival_us + s_.delay.count();
}

}  // namespace junction::media::rtp
