#pragma once
// The WebRTC vectors the unit tests read (tests/vectors/webrtc/).
#include <fstream>
#include <sstream>
#include <string>

namespace junction::webrtc::testing {

// An offer Debian's Chromium made (chromium-offer.sdp: audio and video sendonly, as a WHIP
// publisher's page makes it; captured with playwright-core).
inline std::string chromium_offer() {
  std::ifstream in(JUNCTION_SOURCE_DIR "/tests/vectors/webrtc/chromium-offer.sdp", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace junction::webrtc::testing
