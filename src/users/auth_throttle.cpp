#include "users/auth_throttle.hpp"

#include <algorithm>

namespace junction::users {

std::chrono::seconds auth_throttle::locked_for(std::string_view key, clock::time_point now) const {
  auto it = entries_.find(std::string{key});
  if (it == entries_.end() || it->second.locked_until <= now) return std::chrono::seconds{0};
  return std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now);
}

bool auth_throttle::failed(std::string_view key, clock::time_point now) {
  if (entries_.size() >= settings_.max_keys) forget_old(now);
  auto& e = entries_[std::string{key}];
  if (e.failures > 0 && now - e.last_failure > settings_.forget_after) e = entry{};
  ++e.failures;
  e.last_failure = now;
  if (e.failures <= settings_.allowed) return false;
  // 2^(n - allowed - 1) x base, without overflowing the shift.
  const unsigned doublings = std::min(e.failures - settings_.allowed - 1, 20u);
  const auto delay = std::min<std::chrono::seconds>(settings_.base_delay * (1u << doublings), settings_.max_delay);
  e.locked_until = now + delay;
  return true;
}

void auth_throttle::forget_old(clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) {
    return item.second.locked_until <= now && now - item.second.last_failure > settings_.forget_after;
  });
  // Still full (failures from ever new sources): start over rather than grow without bound.
  if (entries_.size() >= settings_.max_keys) entries_.clear();
}

}  // namespace junction::users
