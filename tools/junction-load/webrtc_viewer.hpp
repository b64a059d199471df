#pragma once
// What junction-load's WebRTC players share whatever their signalling (WHEP: whep_player.hpp;
// Janus's API: janus_player.hpp): the UDP socket and timer, the H.264 depacketized from the
// decrypted RTP and counted as an RTMP player's frames (stamps, gaps, latency, the first
// keyframe), when the player counts as playing, and how its run ended.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "junction-load/load_shard.hpp"
#include "media/h264/rtp_payload.hpp"
#include "media/rtp/packet.hpp"
#include "webrtc/demux.hpp"

namespace junction::load {

class webrtc_viewer {
 public:
  enum class outcome { running, completed, failed, disconnected };

  outcome result() const noexcept { return outcome_; }
  // False while it plays and has not yet received the last frame its publisher sent.
  bool caught_up() const noexcept;
  const player_tally& tally() const noexcept { return tally_; }
  void stop();

 protected:
  webrtc_viewer(load_shard& shard, unsigned stream);
  virtual ~webrtc_viewer();

  // It asked to play now: frames sent before came from a cache (no latency is recorded for them).
  void asked_to_play();
  // Its transport connected: it plays.
  void now_playing();
  // Decrypted packets in (anything with .kind and .bytes): the RTP depacketized and counted.
  template <class Received>
  void take(std::vector<Received> received) {
    frames_.clear();
    for (auto& r : received) {
      if (r.kind != webrtc::packet_kind::rtp) continue;
      auto parsed = media::rtp::parse_packet(r.bytes);
      if (parsed.ok()) depacketizer_.push(*parsed.packet, frames_);
    }
    count_frames();
  }
  // Its media loop ended (`failure`: what its transport said): the outcome, counted and logged.
  void finished(const std::string& what, const std::string& failure);
  // Starts the tick loop: at next_tick(), on_tick(), until the player stops or its socket closes.
  void start_ticks();
  // When the next tick is due (the transport's timers, checks, reports), and what it does.
  virtual std::chrono::steady_clock::time_point next_tick() = 0;
  virtual void on_tick() = 0;
  // Waits (on the shard) until the tick loop, which refers to this player, has ended.
  boost::asio::awaitable<void> ticks_ended();

  load_shard& shard_;
  unsigned stream_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  player_tally tally_;
  outcome outcome_ = outcome::running;
  std::chrono::steady_clock::time_point started_{};
  bool playing_ = false, stopping_ = false, ticking_ = false;

 private:
  boost::asio::awaitable<void> ticks();
  void count_frames();

  media::h264::rtp_depacketizer depacketizer_;
  std::vector<media::frame> frames_;
  std::int64_t play_sent_ns_ = 0;
};

}  // namespace junction::load
