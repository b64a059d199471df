#pragma once
// [gateway]: the Flash<->SIP gateway.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"

namespace junction {

// The Flash<->SIP gateway (docs/gateway.md): the RTMP application siprtmp clients connect to,
// and its calls' media.
struct gateway_config {
  bool enabled = true;
  std::string app = "sip";        // rtmp://host/<app>/<user>@<domain>
  // Where RTP sockets bind and what SDP's c= line says; empty: the first SIP listen address
  // (127.0.0.1 when that is a wildcard).
  std::string media_address;
  unsigned register_expires = 300;                 // asked for when registering a user
  std::chrono::milliseconds ring_timeout{60'000};  // an unanswered outgoing call is cancelled
  std::chrono::milliseconds rtp_timeout{30'000};   // no RTP from the phone this long: hang up
  unsigned transcode_threads = 0;                  // 0: one per core
  // SDES-SRTP (RFC 4568): "off", "answer" (when a phone offers it), "offer" (our offers too),
  // "required" (plain RTP refused).
  std::string srtp = "answer";
  friend bool operator==(const gateway_config&, const gateway_config&) = default;
};

void read_config(config_section& s, gateway_config& out);

}  // namespace junction
