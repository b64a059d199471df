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

#include "junction-load/load_shard.hpp"
#include "media/h264/rtp_payload.hpp"
#include "webrtc/client_peer.hpp"

namespace junction::load {

class whep_player {
 public:
  enum class outcome { running, completed, failed, disconnected };

  whep_player(load_shard& shard, unsigned stream);
  ~whep_player();
  void start();
  void stop();

  outcome result() const noexcept { return outcome_; }
  bool caught_up() const noexcept;
  const player_tally& tally() const noexcept { return tally_; }

 private:
  boost::asio::awaitable<void> session();
  boost::asio::awaitable<void> ticks();
  void on_datagram(std::span<const std::uint8_t> datagram);
  void flush();

  load_shard& shard_;
  unsigned stream_;
  std::unique_ptr<webrtc::client_peer> peer_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  media::h264::rtp_depacketizer depacketizer_;
  player_tally tally_;
  outcome outcome_ = outcome::running;
  std::string location_;
  std::chrono::steady_clock::time_point started_{};
  std::int64_t play_sent_ns_ = 0;
  std::uint32_t rtcp_ssrc_ = 0x4a4c4f44;  // what its receiver reports come from
  bool playing_ = false, stopping_ = false, ticking_ = false;
};

}  // namespace junction::load
