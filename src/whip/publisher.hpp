#pragma once
// A WHIP session (RFC 9725): a browser publishes into the stream hub, so RTMP players, HTTP-FLV
// and recordings take the stream as they take an RTMP publication.
//   video: H.264 (RFC 6184) depacketized into FLV AVC frames, passed through; a lost packet is
//          asked for again (NACK, RTX), later packets waiting for it up to 150 ms; a loss that breaks
//          the picture, the start, and players that need one (stream_hub::request_keyframe) ask
//          the browser for a keyframe (a PLI, twice a second at most). VP8 (RFC 7741), from a
//          browser that offers no H.264, is transcoded to H.264 on the session's worker; there a
//          player's keyframe request makes the encoder's next picture an IDR instead;
//   audio: Opus transcoded to AAC (what RTMP and FLV players decode) on the session's worker;
//   transcoding (VP8 and Opus) runs only while the stream has a consumer somewhere
//          (publication::demanded): started, at the browser's next keyframe, when the first one
//          comes, and dropped when the last one leaves;
//   congestion control: transport-wide feedback (when the browser numbers its packets) every
//          100 ms, which is what lets a browser raise its bitrate past its start; for a sender
//          that takes only REMB, a loss-based estimate once a second (media/rtp/remb_estimator).
// Both tracks are put on one millisecond timeline from the session's first packet.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "media/h264/rtp_payload.hpp"
#include "media/vp8/rtp_payload.hpp"
#include "media/rtp/jitter_buffer.hpp"
#include "media/rtp/nack_tracker.hpp"
#include "media/rtp/remb_estimator.hpp"
#include "media/rtp/transport_cc_receiver.hpp"
#include "media/sdp/session.hpp"
#include "media/stream_hub.hpp"
#include "transcode/audio_direction.hpp"
#include "transcode/video_transcoder.hpp"
#include "whip/session.hpp"

namespace junction {
class worker_pool;
}

namespace junction::whip {

struct publisher_tracks {
  std::optional<media::sdp::codec> audio;  // Opus
  std::optional<media::sdp::codec> video;  // H.264, packetization-mode 1, or VP8
  std::optional<std::uint8_t> video_rtx;   // its RTX payload type (RFC 4588)
  std::optional<std::uint8_t> transport_cc;  // the transport-wide sequence number's extension id
  bool remb = false;  // goog-remb agreed for the video (used when transport_cc is not)
  bool vp8() const;
};

class publisher final : public session {
 public:
  publisher(junction::shard& home, webrtc::webrtc_port& port, session_table& table, const session_metrics& metrics,
            std::string id, std::string key, std::string peer, std::unique_ptr<media::publication> publication,
            publisher_tracks tracks, worker_pool& workers);
  ~publisher() override;

  void on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> packet) override;

 private:
  using clock = std::chrono::steady_clock;
  const char* kind() const noexcept override { return "whip"; }
  void on_connected() override;
  void on_end() override;
  // Every 20 ms: video packets whose wait for a lost one is over, NACKs due again, and every
  // 100 ms transport-wide feedback for what arrived, so the browser's estimate (and its
  // bitrate) follows what the path takes.
  void tick();
  void send_feedback();
  void send_remb();
  // One video packet, first sent or retransmitted: gaps are asked for again (NACK), and the
  // packet waits in order for those before it.
  void on_video_packet(std::span<const std::uint8_t> datagram, std::uint16_t sequence, std::uint32_t ssrc,
                       bool retransmission);
  void drain_video();
  void send_nacks(const std::vector<std::uint16_t>& lost);
  void on_video(const media::rtp::packet& p);
  void on_audio(const media::rtp::packet& p);
  void push(media::frame f);
  void push_aac(const std::vector<transcode::audio_packet>& packets, const std::vector<std::uint8_t>& config);
  // The stream got its first consumer, or lost its last: transcoders start or stop.
  void on_demand(bool demanded);
  void transcode_video(media::frame f);
  void ask_for_keyframe(std::uint32_t media_ssrc);
  // Milliseconds from the session's first packet to now (the start of a track's timeline).
  std::uint32_t offset_now();

  std::unique_ptr<media::publication> publication_;
  publisher_tracks tracks_;
  worker_pool& workers_;
  std::size_t worker_;
  media::h264::rtp_depacketizer depacketizer_;
  media::vp8::rtp_depacketizer vp8_depacketizer_;
  // Used on the worker only, while the stream is demanded; the results of one that was dropped
  // (an older generation) are not pushed.
  std::shared_ptr<transcode::audio_direction> opus_to_aac_;
  std::shared_ptr<transcode::video_transcoder> vp8_to_h264_;
  std::uint64_t generation_ = 0;
  bool vp8_waits_for_keyframe_ = true;
  bool transcoding_ = false;  // counted in metrics_.transcoding
  std::optional<clock::time_point> first_packet_;
  std::optional<std::uint32_t> video_offset_, audio_offset_;
  bool aac_config_sent_ = false;
  clock::time_point last_pli_{};
  media::rtp::transport_cc_receiver arrivals_;
  std::uint32_t media_ssrc_ = 0, video_ssrc_ = 0;
  media::rtp::nack_tracker losses_;
  media::rtp::jitter_buffer video_order_{{std::chrono::milliseconds(150), 1024}};
  boost::asio::steady_timer tick_timer_;
  unsigned ticks_ = 0;
  media::rtp::remb_estimator remb_;
  std::uint64_t bytes_since_remb_ = 0, packets_since_remb_ = 0, missing_at_remb_ = 0;
  clock::time_point last_remb_ = clock::now();
};

}  // namespace junction::whip
