#include "im/offline_messages.hpp"

namespace junction::im {

bool offline_messages::store(std::string_view aor, stored_message m) {
  auto it = boxes_.find(aor);
  std::size_t size = size_of(m);
  if (bytes_ + size > limits_.total_bytes) return false;
  if (it != boxes_.end() && it->second.size() >= limits_.per_user) return false;
  if (it == boxes_.end()) it = boxes_.emplace(std::string(aor), std::deque<stored_message>{}).first;
  bytes_ += size;
  it->second.push_back(std::move(m));
  return true;
}

std::vector<stored_message> offline_messages::take(std::string_view aor,
                                                   std::chrono::system_clock::time_point now) {
  std::vector<stored_message> out;
  auto it = boxes_.find(aor);
  if (it == boxes_.end()) return out;
  for (auto& m : it->second) {
    bytes_ -= size_of(m);
    if (now - m.received < limits_.keep) out.push_back(std::move(m));
  }
  boxes_.erase(it);
  return out;
}

void offline_messages::give_back(std::string_view aor, std::vector<stored_message> messages) {
  auto it = boxes_.find(aor);
  if (it == boxes_.end()) it = boxes_.emplace(std::string(aor), std::deque<stored_message>{}).first;
  for (auto m = messages.rbegin(); m != messages.rend(); ++m) {
    std::size_t size = size_of(*m);
    if (it->second.size() >= limits_.per_user || bytes_ + size > limits_.total_bytes) break;
    bytes_ += size;
    it->second.push_front(std::move(*m));
  }
  if (it->second.empty()) boxes_.erase(it);
}

std::size_t offline_messages::purge(std::chrono::system_clock::time_point now) {
  std::size_t gone = 0;
  for (auto it = boxes_.begin(); it != boxes_.end();) {
    auto& box = it->second;
    while (!box.empty() && now - box.front().received >= limits_.keep) {
      bytes_ -= size_of(box.front());
      box.pop_front();
      ++gone;
    }
    it = box.empty() ? boxes_.erase(it) : std::next(it);
  }
  return gone;
}

std::size_t offline_messages::waiting(std::string_view aor) const {
  auto it = boxes_.find(aor);
  return it == boxes_.end() ? 0 : it->second.size();
}

}  // namespace junction::im
