#include "webrtc/port_table.hpp"

#include <functional>

#include "webrtc/demux.hpp"
#include "webrtc/stun.hpp"

namespace junction::webrtc {

std::size_t port_table::endpoint_hash::operator()(const endpoint& e) const noexcept {
  std::size_t h = std::hash<unsigned short>{}(e.port());
  const auto address = e.address();
  if (address.is_v4()) return h ^ std::hash<unsigned long>{}(address.to_v4().to_uint()) * 0x9E3779B97F4A7C15ull;
  for (auto b : address.to_v6().to_bytes()) h = h * 131 + b;
  return h;
}

bool port_table::add(std::string local_ufrag, peer_id id) {
  if (local_ufrag.empty() || by_ufrag_.contains(local_ufrag)) return false;
  ufrag_of_[id] = local_ufrag;
  by_ufrag_.emplace(std::move(local_ufrag), id);
  return true;
}

void port_table::remove(peer_id id) {
  if (auto it = ufrag_of_.find(id); it != ufrag_of_.end()) {
    by_ufrag_.erase(it->second);
    ufrag_of_.erase(it);
  }
  std::erase_if(by_address_, [id](const auto& entry) { return entry.second == id; });
}

void port_table::learn(const endpoint& from, peer_id id) {
  if (ufrag_of_.contains(id)) by_address_[from] = id;
}

std::optional<port_table::peer_id> port_table::route(std::span<const std::uint8_t> datagram,
                                                     const endpoint& from) const {
  if (classify(datagram) == packet_kind::stun) {
    if (auto ufrag = username_local_part(datagram); !ufrag.empty()) {
      // A check names its peer even from an address learned for another (a NAT that reused a
      // port): the peer's agent then decides whether it is valid.
      if (auto it = by_ufrag_.find(std::string(ufrag)); it != by_ufrag_.end()) return it->second;
      return std::nullopt;
    }
  }
  if (auto it = by_address_.find(from); it != by_address_.end()) return it->second;
  return std::nullopt;
}

std::string_view username_local_part(std::span<const std::uint8_t> datagram) {
  std::error_code ec;
  auto m = stun::message_view::parse(datagram, ec);
  if (ec) return {};
  auto username = m.username();
  if (!username) return {};
  const auto colon = username->find(':');
  return colon == std::string_view::npos ? std::string_view{} : username->substr(0, colon);
}

}  // namespace junction::webrtc
