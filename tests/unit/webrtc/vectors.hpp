#pragma once
// The WebRTC vectors the unit tests read (tests/vectors/webrtc/).
#include <fstream>
#include <sstream>
#include <string>

namespace junction::webrtc::testing {

inline std::string vector_file(const char* name) {
  std::ifstream in(std::string(JUNCTION_SOURCE_DIR "/tests/vectors/webrtc/") + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// An offer Debian's Chromium made (chromium-offer.sdp: audio and video sendonly, as a WHIP
// publisher's page makes it; captured with playwright-core).
inline std::string chromium_offer() { return vector_file("chromium-offer.sdp"); }

// The same with the video sent as two simulcast layers (sendEncodings rid "h" and "l", the
// second at half the size): a=rid:h send, a=rid:l send, a=simulcast:send h;l.
inline std::string chromium_simulcast_offer() { return vector_file("chromium-simulcast-offer.sdp"); }

}  // namespace junction::webrtc::testing
