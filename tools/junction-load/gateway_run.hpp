#pragma once
// junction-load gateway: concurrent Flash<->SIP gateway calls. Each call is a siprtmp client
// that logs in (rtmp://server/<app>/<user><n>@<domain>), invites the callee (a SIP endpoint
// that echoes RTP, e.g. sipp -rtp_echo), publishes `local` with the audio frames of an FLV file
// (Speex 16 kHz, 20 ms) at their own pace, plays `remote` and notes when each frame comes back.
// The report (JSON): calls set up, frames sent and received (loss), and how late frames came
// back against the call's steady delay (p50, p99, and the share later than --late).
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>

namespace junction::load {

struct gateway_options {
  boost::asio::ip::tcp::endpoint server;
  std::string app = "sip";
  std::string user_prefix = "load";  // users <prefix><n>@<domain>
  unsigned first_user = 0;
  std::string domain = "127.0.0.1";
  std::string password = "load";
  std::string callee = "echo@127.0.0.1";
  std::string codec = "ulaw";  // what the client asks for (siprtmp codec name)
  std::string source;          // FLV file whose audio is sent
  unsigned calls = 10;
  unsigned ramp = 50;          // calls started per second
  std::chrono::milliseconds duration{10'000};
  double late_ms = 100;        // a frame later than this (beyond the steady delay) is late
};

// 0 when every call was set up, 1 otherwise, 2 for bad input.
int run_gateway_load(const gateway_options& o);

}  // namespace junction::load
