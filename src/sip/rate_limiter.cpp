#include "sip/rate_limiter.hpp"

namespace junction::sip {

bool rate_limiter::allow(std::string_view source, clock::time_point now) {
  if (per_second_ == 0) return true;
  if (now - last_sweep_ > std::chrono::seconds(10) || windows_.size() >= max_sources_) forget_idle(now);
  auto [it, fresh] = windows_.try_emplace(std::string(source), window{now, 0});
  window& w = it->second;
  if (!fresh && now - w.start >= std::chrono::seconds(1)) w = window{now, 0};
  return ++w.count <= per_second_;
}

void rate_limiter::forget_idle(clock::time_point now) {
  last_sweep_ = now;
  std::erase_if(windows_, [now](const auto& e) { return now - e.second.start >= std::chrono::seconds(2); });
  // Still full (a spoofed-source flood): start over rather than grow without bound.
  if (windows_.size() >= max_sources_) windows_.clear();
}

}  // namespace junction::sip
