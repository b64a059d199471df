#pragma once
// [recording]: where recordings go, which calls are recorded, the VOD application.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"

namespace junction {

// Recordings: gateway calls and RTMP streams as FLV files, listed at /api/v1/recordings,
// downloaded from /recordings/<id>.flv, played back over RTMP from the VOD application.
struct recording_config {
  std::string directory = "recordings";  // relative to the configuration file's folder
  std::string calls = "off";             // "off", "all", or "users" (the gateway users listed)
  std::vector<std::string> users;        // user@domain of gateway lines whose calls are recorded
  std::string vod_app = "vod";           // rtmp://host/<vod_app>/<recording id> plays one
  friend bool operator==(const recording_config&, const recording_config&) = default;
};

void read_config(config_section& s, recording_config& out);

}  // namespace junction
