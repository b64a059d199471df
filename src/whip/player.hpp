#pragma once
// A WHEP session: a browser plays a live stream of the hub (an RTMP or WHIP publication).
//   video: the stream's H.264 packetized (RFC 6184, packetization-mode 1) as it is, from the
//          shard's whep_feed of the stream (paced; the pictures since the last keyframe at once
//          when the player joins, which it does when the transport connects);
//   audio: Opus from the same feed (one AAC -> Opus transcoder per stream and shard).
// What it sent last is kept to answer the browser's NACKs (RTX when agreed, RFC 4588); a PLI or
// FIR waits for the publisher's next keyframe (pass-through cannot make one). Sender reports go
// out every second per stream, so the browser can put audio and video in sync.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/asio/steady_timer.hpp>

#include "media/rtp/retransmission_cache.hpp"
#include "media/sdp/session.hpp"
#include "whip/whep_feed.hpp"
#include "whip/session.hpp"

namespace junction::whip {

struct player_tracks {
  std::optional<media::sdp::codec> audio;  // Opus
  std::optional<media::sdp::codec> video;  // H.264
  std::optional<std::uint8_t> video_rtx;   // its RTX payload type
  std::uint32_t audio_ssrc = 0, video_ssrc = 0, video_rtx_ssrc = 0;
};

class player final : public session, public whep_feed::listener {
 public:
  player(junction::shard& home, webrtc::webrtc_port& port, session_table& table, const session_metrics& metrics,
         std::string id, std::string key, std::string peer, std::shared_ptr<whep_feed> feed, player_tracks tracks);
  ~player() override;

  // webrtc::peer_events: the browser's RTCP (receiver reports, NACK, PLI, FIR, REMB).
  void on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> packet) override;
  // whep_feed::listener
  void on_video(const video_unit& v, std::uint32_t timestamp_ms) override;
  void on_opus(std::span<const std::uint8_t> packet, std::uint32_t clock) override;
  void on_restart() override { need_keyframe_ = true; }

 private:
  using clock = std::chrono::steady_clock;
  const char* kind() const noexcept override { return "whep"; }
  void on_connected() override;
  void on_end() override;
  void send_rtp(std::vector<std::uint8_t> packet);
  void maybe_report(clock::time_point now);

  std::shared_ptr<whep_feed> feed_;
  player_tracks tracks_;
  std::uint32_t video_base_, audio_base_;
  media::rtp::retransmission_cache cache_;  // headers and shared payloads: a few dozen KiB
  std::uint16_t video_sequence_, audio_sequence_;
  bool joined_ = false, need_keyframe_ = true, audio_started_ = false;
  // For sender reports: the last RTP timestamp each stream sent, when, and what it counted.
  struct sent_stream {
    std::uint32_t rtp_timestamp = 0;
    clock::time_point at{};
    std::uint32_t packets = 0, octets = 0;
    bool any = false;
  } video_sent_, audio_sent_;
  clock::time_point last_report_{};
};

}  // namespace junction::whip
