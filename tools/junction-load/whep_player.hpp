#pragma once
// One WebRTC player: POSTs a WHEP offer (video, recvonly) for its stream, connects to the
// answer's candidate (ICE checks, DTLS as the server, SRTP), depacketizes the H.264 it receives
// and counts the frames as an RTMP player does (stamps, gaps, latency, the first keyframe);
// it sends a receiver report when connected and every few seconds, keeps its consent fresh,
// and DELETEs its session when the run closes it (within its own life: the run waits for it).
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "junction-load/webrtc_viewer.hpp"
#include "webrtc/client_peer.hpp"

namespace junction::load {

class whep_player final : public webrtc_viewer {
 public:
  whep_player(load_shard& shard, unsigned stream);
  ~whep_player();
  void start();

 private:
  boost::asio::awaitable<void> session();
  // Checks every 50 ms until connected, then every 2.5 s (consent) with a receiver report, and
  // DTLS retransmissions when due.
  std::chrono::steady_clock::time_point next_tick() override;
  void on_tick() override;
  void on_datagram(std::span<const std::uint8_t> datagram);
  void flush();

  std::unique_ptr<webrtc::client_peer> peer_;
  std::string location_;
  std::uint32_t rtcp_ssrc_ = 0x4a4c4f44;  // what its receiver reports come from
};

}  // namespace junction::load
