#include "webrtc/tcp_framing.hpp"

namespace junction::webrtc {

bool frame_for_tcp(std::span<const std::uint8_t> packet, std::vector<std::uint8_t>& out) {
  if (packet.size() > tcp_deframer::max_packet) return false;
  out.push_back(static_cast<std::uint8_t>(packet.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(packet.size()));
  out.insert(out.end(), packet.begin(), packet.end());
  return true;
}

}  // namespace junction::webrtc
