#include "media/rtp/nack_tracker.hpp"

namespace junction::media::rtp {

void nack_tracker::on_packet(std::uint16_t sequence, clock::time_point now) {
  (void)now;
  if (!highest_) {
    highest_ = sequence;
    return;
  }
  const auto delta = static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(*highest_));
  const std::int64_t s = *highest_ + delta;
  if (s <= *highest_) {  // late: a retransmission, or reordered
    if (missing_.erase(s)) ++stats_.recovered;
    return;
  }
  // Everything between the newest and this one is missing, up to max_missing of it.
  const std::int64_t from = std::max(*highest_ + 1, s - static_cast<std::int64_t>(o_.max_missing));
  for (std::int64_t m = from; m < s; ++m) {
    missing_.emplace(m, missing{});
    ++stats_.missing;
  }
  highest_ = s;
  while (!missing_.empty() && missing_.begin()->first < s - static_cast<std::int64_t>(o_.max_missing)) {
    missing_.erase(missing_.begin());
    ++stats_.given_up;
  }
}

std::vector<std::uint16_t> nack_tracker::due(clock::time_point now) {
  std::vector<std::uint16_t> out;
  for (auto it = missing_.begin(); it != missing_.end();) {
    auto& m = it->second;
    if (m.tries > 0 && now - m.asked < o_.retry) {
      ++it;
      continue;
    }
    if (m.tries >= o_.max_tries) {
      it = missing_.erase(it);
      ++stats_.given_up;
      continue;
    }
    ++m.tries;
    m.asked = now;
    out.push_back(static_cast<std::uint16_t>(it->first));
    ++it;
  }
  return out;
}

}  // namespace junction::media::rtp
