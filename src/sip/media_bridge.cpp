#include "sip/media_bridge.hpp"

namespace junction::sip {

bool is_webrtc_description(std::string_view sdp) noexcept {
  // An m= line whose protocol is RTP over DTLS (RFC 5764 §8): UDP/TLS/RTP/SAVP or /SAVPF.
  std::size_t at = 0;
  while (at < sdp.size()) {
    auto eol = sdp.find('\n', at);
    if (eol == std::string_view::npos) eol = sdp.size();
    std::string_view line = sdp.substr(at, eol - at);
    if (line.size() > 2 && line[0] == 'm' && line[1] == '=' && line.find(" UDP/TLS/RTP/SAVP") != std::string_view::npos)
      return true;
    at = eol + 1;
  }
  return false;
}

}  // namespace junction::sip
