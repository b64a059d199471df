#pragma once
// A WHIP session (RFC 9725): a browser publishes into the stream hub, so RTMP players, HTTP-FLV
// and recordings take the stream as they take an RTMP publication.
//   video: one video_layer per stream the browser sends (its only one, or each simulcast layer):
//          H.264 passed through, VP8 transcoded to H.264; losses asked for again (NACK, RTX);
//          keyframes asked of the browser (PLI) or, for VP8, of the transcoder;
//   simulcast (RFC 8853, layers named by rid and told apart by the rtp-stream-id header
//          extension, then by SSRC): each layer is a stream of its own, `<stream>~<rid>`, and
//          `<stream>` carries the best one: the layer that brings the most bytes a second
//          (Chromium adds and drops its upper layers as its estimate of the path moves), switched
//          to at that layer's keyframe (asked for) with its sequence header first;
//   audio: Opus transcoded to AAC (what RTMP and FLV players decode) on the session's worker,
//          into every stream the session publishes;
//   transcoding (VP8 and Opus) runs only while there is a consumer (publication::demanded):
//          audio while any of the session's streams has one, a VP8 layer while its own stream
//          or `<stream>` has one; started at the browser's next keyframe, dropped when the last
//          consumer leaves;
//   congestion control: transport-wide feedback (when the browser numbers its packets) every
//          100 ms, which is what lets a browser raise its bitrate past its start; for a sender
//          that takes only REMB, a loss-based estimate once a second (media/rtp/remb_estimator).
// All tracks are put on one millisecond timeline from the session's first packet.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "media/rtp/remb_estimator.hpp"
#include "media/rtp/transport_cc_receiver.hpp"
#include "media/sdp/session.hpp"
#include "media/stream_hub.hpp"
#include "transcode/audio_direction.hpp"
#include "whip/session.hpp"
#include "whip/video_layer.hpp"

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
  // Simulcast: the layers taken, and the header extensions that name a packet's layer.
  std::vector<std::string> rids;
  std::optional<std::uint8_t> rid_extension, repaired_rid_extension;
  bool vp8() const;
};

// The stream a simulcast layer is published as.
std::string layer_key(const std::string& key, const std::string& rid);

class publisher final : public session, private video_layer::owner {
 public:
  // `layer_publications`: one per rid of `tracks`, in their order (none without simulcast).
  publisher(junction::shard& home, webrtc::webrtc_port& port, session_table& table, const session_metrics& metrics,
            std::string id, std::string key, std::string peer, std::unique_ptr<media::publication> publication,
            std::vector<std::unique_ptr<media::publication>> layer_publications, publisher_tracks tracks,
            worker_pool& workers);
  ~publisher() override;

  void on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> packet) override;

 private:
  using clock = std::chrono::steady_clock;
  const char* kind() const noexcept override { return "whip"; }
  void on_connected() override;
  void on_end() override;
  // video_layer::owner
  bool send_layer_rtcp(std::vector<std::uint8_t> packet) override;
  void on_layer_frame(video_layer& layer, media::frame f) override;
  std::uint32_t offset_now() override;
  void count_nacked(std::size_t packets) override;
  std::weak_ptr<void> lifetime() override { return weak_from_this(); }

  // Every 20 ms: the layers' ticks, and every 100 ms transport-wide feedback for what arrived,
  // so the browser's estimate (and its bitrate) follows what the path takes.
  void tick();
  void send_feedback();
  void send_remb();
  // The layer a video packet belongs to (by its rid, or its SSRC once known), or null.
  video_layer* layer_of(const media::rtp::packet& p);
  // Once a second: which layer `<stream>` should carry.
  void choose_main_layer();
  void on_audio(const media::rtp::packet& p);
  void push_aac(const std::vector<transcode::audio_packet>& packets, const std::vector<std::uint8_t>& config);
  // Into `<stream>` and every layer's stream.
  void push_everywhere(const media::frame& f);
  // A publication's consumers came or went: transcoders start or stop.
  void update_transcoding();
  bool alive() const { return !ended() && publication_ != nullptr; }

  std::unique_ptr<media::publication> publication_;
  std::vector<std::unique_ptr<media::publication>> layer_publications_;
  publisher_tracks tracks_;
  worker_pool& workers_;
  std::size_t worker_;
  std::vector<std::shared_ptr<video_layer>> layers_;
  // The layer `<stream>` carries, and one it switches to at its next keyframe.
  std::optional<std::size_t> main_layer_, next_main_layer_;
  std::uint32_t last_main_timestamp_ = 0;
  std::vector<std::uint64_t> bytes_at_choice_;  // each layer's bytes() at the last choice
  // Used on the worker only; the results of one that was dropped (an older generation) are not
  // pushed.
  std::shared_ptr<transcode::audio_direction> opus_to_aac_;
  std::uint64_t audio_generation_ = 0;
  bool transcoding_ = false;  // counted in metrics_.transcoding
  std::optional<clock::time_point> first_packet_;
  std::optional<std::uint32_t> audio_offset_;
  bool aac_config_sent_ = false;
  media::rtp::transport_cc_receiver arrivals_;
  std::uint32_t media_ssrc_ = 0;
  boost::asio::steady_timer tick_timer_;
  unsigned ticks_ = 0;
  media::rtp::remb_estimator remb_;
  std::uint64_t bytes_at_remb_ = 0, packets_at_remb_ = 0, missing_at_remb_ = 0;
  clock::time_point last_remb_ = clock::now();
};

}  // namespace junction::whip
