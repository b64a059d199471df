#pragma once
// What a shard's WHEP players of one stream are sent, made once per stream and shard however
// many players there are:
//   - the stream's H.264 frames, paced: a publisher's frames reach the hub in bursts (RTMP reads
//     are merged, rtmp.merge_write), and a browser takes bursts for network jitter and plays
//     later, or pauses, to absorb them. Each frame goes out when its timestamp says, against an
//     anchor (the wall time of one frame), which moves when the stream jumps or runs late;
//   - its audio as Opus, which browsers decode (RTMP publishers send AAC): one transcoder on a
//     worker, only while a player takes audio, its packets paced the same way;
//   - for a player that joins, the group of pictures since the last keyframe at once, its
//     timestamps pressed together to end at the newest one: the browser decodes it and shows the
//     current picture without waiting for the next keyframe. Only a short one (a second, 60
//     frames): a browser drops a long pressed run and asks again. For a longer one the player
//     waits for the next keyframe, and the publisher is asked for one (a WebRTC publisher's
//     encoder makes keyframes on request only).
// The hub's own replay of its GOP cache (when the feed subscribes, or a publisher starts) is
// taken the same way, not paced (it would otherwise put the whole stream a GOP behind). A feed
// is a sink of the hub while it has players.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "media/h264/rtp_payload.hpp"
#include "media/sink.hpp"
#include "transcode/audio_direction.hpp"

namespace junction {
class shard;
class worker_pool;
}
namespace junction::media {
class stream_hub;
}

namespace junction::whip {

// One video frame as the feed's players send it: the frame, and its RTP payloads (RFC 6184,
// the last sequence header's SPS and PPS before a keyframe), made once for every player of the
// shard; each player only puts its own header on each.
struct video_unit {
  media::shard_frame_ptr frame;
  struct payload {
    shared_buffer bytes;
    bool marker = false;
  };
  std::shared_ptr<const std::vector<payload>> payloads;
};

class whep_feed final : public media::sink, public std::enable_shared_from_this<whep_feed> {
 public:
  class listener {
   public:
    virtual ~listener() = default;
    // An H.264 frame to send with `timestamp_ms` (its own, or pressed).
    virtual void on_video(const video_unit& v, std::uint32_t timestamp_ms) = 0;
    // One 20 ms Opus packet; `clock` is its time on the stream's timeline in 48 kHz units (the
    // frame timestamps' milliseconds times 48).
    virtual void on_opus(std::span<const std::uint8_t> packet, std::uint32_t clock) = 0;
    // Another publisher took the stream (or the same one returned): start again at a keyframe.
    virtual void on_restart() = 0;
  };

  using clock = std::chrono::steady_clock;

  whep_feed(junction::shard& home, media::stream_hub& hub, worker_pool& workers, std::string key);
  ~whep_feed() override;
  whep_feed(const whep_feed&) = delete;
  whep_feed& operator=(const whep_feed&) = delete;

  // The first listener subscribes to the hub, the last one leaving unsubscribes. A listener
  // added while the stream runs gets the pictures since the last keyframe at once.
  void add(listener& l, bool audio);
  void remove(listener& l);
  // A player lost its picture (a PLI or FIR): the publisher is asked for a keyframe, at most
  // twice a second (an RTMP publisher cannot make one: the next one comes when it comes).
  void request_keyframe();

  void on_start() override;
  void on_frame(const media::shard_frame_ptr& f) override;
  void on_stop() override;

 private:
  struct opus_packet {
    std::vector<std::uint8_t> data;
    std::uint32_t clock = 0;
  };
  using item = std::variant<video_unit, opus_packet>;
  struct member {
    listener* l;
    bool audio;
  };

  void on_audio(const media::frame& frame);
  void deliver(std::uint64_t generation, std::vector<transcode::audio_packet> packets, std::uint32_t first_ms);
  void enqueue(std::uint32_t media_ms, item what);
  void release();
  void schedule();
  void end_replay();
  // The frame's payloads made, and kept for players that join when it belongs to the current
  // group of pictures; nothing for a sequence header (kept for the keyframes).
  std::optional<video_unit> shape(const media::shard_frame_ptr& f);
  void send_gop(listener& l);
  void restart_audio();
  bool gop_is_short() const;

  junction::shard& home_;
  media::stream_hub& hub_;
  worker_pool& workers_;
  std::size_t worker_;
  std::string key_;
  std::vector<member> members_;
  std::size_t audio_members_ = 0;
  // The frames since the last keyframe, for players that join.
  media::h264::rtp_packetizer shaper_{media::h264::packetizer_settings{}};
  std::vector<video_unit> gop_;
  std::size_t gop_bytes_ = 0;
  bool replaying_ = false, replay_posted_ = false;
  std::vector<media::shard_frame_ptr> replay_;
  // Pacing: what is due when, and the anchor that says when.
  std::multimap<clock::time_point, item> queue_;
  std::optional<std::pair<clock::time_point, std::uint32_t>> anchor_;  // wall time, media ms
  boost::asio::steady_timer timer_;
  std::optional<clock::time_point> armed_for_;
  // Audio.
  std::shared_ptr<transcode::audio_direction> direction_;
  std::vector<std::uint8_t> aac_config_;
  std::uint64_t generation_ = 0;  // a new transcoder's packets do not mix with the old one's
  std::optional<std::uint32_t> first_audio_ms_;
  clock::time_point last_keyframe_request_{};
};

}  // namespace junction::whip
