#pragma once
// One player of a Janus streaming mountpoint, for benchmarks side by side with Junction's WHEP:
// Janus's HTTP API (create a session, attach the streaming plugin, "watch" the mountpoint, take
// Janus's offer from the long poll, "start" with the answer, "destroy" at the end), then the
// media as a WHEP player takes it: ICE-lite (Janus, a full agent, checks; this answers), DTLS as
// Janus's answer role says, SRTP, H.264 depacketized and every frame counted (stamps, gaps,
// latency, the first keyframe). The answer is made by Junction's own answer code
// (webrtc::make_answer) and the transport is Junction's (webrtc::transport): the same cores
// that serve browsers play the browser here.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "junction-load/webrtc_viewer.hpp"
#include "webrtc/transport.hpp"

namespace junction::load {

class janus_player final : public webrtc_viewer {
 public:
  janus_player(load_shard& shard, unsigned stream);
  ~janus_player();
  void start();

 private:
  boost::asio::awaitable<void> session();
  // Creates the session and handle and takes the mountpoint's offer; false on any failure.
  boost::asio::awaitable<bool> signal();
  // DTLS retransmissions and the transport's timers: every 50 ms until connected, then every second.
  std::chrono::steady_clock::time_point next_tick() override;
  void on_tick() override;
  void on_datagram(std::span<const std::uint8_t> datagram, const boost::asio::ip::udp::endpoint& from);
  void flush();
  void fail(const std::string& why);

  std::unique_ptr<webrtc::transport> peer_;
  std::string session_url_, handle_url_, offer_;
};

}  // namespace junction::load
