#pragma once
// A WHEP session: a browser plays a live stream of the hub (an RTMP or WHIP publication).
//   video: the stream's H.264 packetized (RFC 6184, packetization-mode 1) as it is, from the
//          shard's whep_feed of the stream (paced; the pictures since the last keyframe at once
//          when the player joins, which it does when the transport connects);
//   audio: Opus from the same feed (one AAC -> Opus transcoder per stream and shard).
// What it sent last is kept to answer the browser's NACKs (RTX when agreed, RFC 4588); a PLI or
// FIR waits for the publisher's next keyframe (pass-through cannot make one). Sender reports go
// out every second per stream, so the browser can put audio and video in sync. Video packets
// carry abs-send-time when agreed, and the answer leaves transport-wide feedback out, so the
// browser estimates the path itself and says what it can take in REMB: a player of a simulcast
// publication is moved to a lower layer when that is less than it is sent, and back up when
// there is room (layer_chooser).
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "media/rtp/retransmission_cache.hpp"
#include "media/sdp/session.hpp"
#include "whip/layer_chooser.hpp"
#include "whip/whep_feed.hpp"
#include "whip/session.hpp"

namespace junction::whip {

struct player_tracks {
  std::optional<media::sdp::codec> audio;  // Opus
  std::optional<media::sdp::codec> video;  // H.264
  std::optional<std::uint8_t> video_rtx;   // its RTX payload type
  std::optional<std::uint8_t> abs_send_time;  // the extension's id: written on video packets
  std::uint32_t audio_ssrc = 0, video_ssrc = 0, video_rtx_ssrc = 0;
};

// A simulcast layer's stream a player may be moved to, and its rate when the player started.
struct layer_option {
  std::string key;
  std::uint64_t bits_per_second = 0;
};

// The shard's feed of a stream (made when there is none).
using feed_source = std::function<std::shared_ptr<whep_feed>(const std::string& key)>;

class player final : public session, public whep_feed::listener {
 public:
  // `layers` (best first, the first being `key` itself): a stream published in simulcast layers,
  // none of which the player asked for; it is moved between them as its browser's REMB says
  // (layer_chooser). Empty: it plays `key` throughout.
  player(junction::shard& home, webrtc::webrtc_port& port, session_table& table, const session_metrics& metrics,
         std::string id, std::string key, std::string peer, feed_source feeds, player_tracks tracks,
         std::vector<layer_option> layers = {});
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
  // Once a second with simulcast layers: the chooser's verdict, and a move when it says so
  // (posted: a feed's listener does not leave it while being called).
  void maybe_choose_layer(clock::time_point now);
  void move_to_layer(std::size_t layer);

  feed_source feeds_;
  std::shared_ptr<whep_feed> feed_;
  std::vector<layer_option> layers_;
  std::optional<layer_chooser> chooser_;
  std::size_t layer_ = 0;
  std::optional<std::uint64_t> estimate_;  // the browser's last REMB, bits a second
  clock::time_point estimate_at_{}, last_choice_{};
  std::uint64_t video_octets_ = 0, octets_at_choice_ = 0;
  std::array<std::uint8_t, 4> abs_send_time_{};  // the extension element written on video packets
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
