#pragma once
// One video stream a WHIP publisher receives: its only one, or one simulcast layer (RFC 8853,
// named by its rid). Its packets, first sent or repeated over RTX (RFC 4588), are put in order
// (a lost one is asked for again with a NACK, later ones waiting for it up to 150 ms) and
// depacketized:
//   H.264 (RFC 6184) into FLV AVC frames, passed through;
//   VP8 (RFC 7741) into 'vp08' frames, transcoded to H.264 on the session's worker, only while
//   `set_transcoding` says someone needs them (from the browser's next keyframe, asked for).
// A loss that breaks the picture asks the browser for a keyframe (a PLI, twice a second at
// most); `request_keyframe` (a player's) asks the transcoder for an IDR where there is one.
// Frames leave through owner::on_layer_frame, on the layer's own timeline in milliseconds from
// the session's first packet. Used on the session's shard only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/h264/rtp_payload.hpp"
#include "media/rtp/jitter_buffer.hpp"
#include "media/rtp/nack_tracker.hpp"
#include "media/rtp/packet.hpp"
#include "media/vp8/rtp_payload.hpp"
#include "transcode/video_transcoder.hpp"

namespace junction {
class shard;
class worker_pool;
}  // namespace junction

namespace junction::whip {

class video_layer : public std::enable_shared_from_this<video_layer> {
 public:
  using clock = std::chrono::steady_clock;

  class owner {
   public:
    virtual ~owner() = default;
    // Sends one RTCP packet (NACK, PLI) to the browser; false before the transport is up.
    virtual bool send_layer_rtcp(std::vector<std::uint8_t> packet) = 0;
    // An H.264 frame of the layer (a sequence header or a picture).
    virtual void on_layer_frame(video_layer& layer, media::frame f) = 0;
    // Milliseconds from the session's first packet to now.
    virtual std::uint32_t offset_now() = 0;
    virtual void count_nacked(std::size_t packets) = 0;
    // What keeps the owner alive: the transcoder's results come back only while it is.
    virtual std::weak_ptr<void> lifetime() = 0;
  };

  struct settings {
    std::string rid;                  // empty without simulcast
    bool vp8 = false;                 // else H.264
    std::uint8_t payload_type = 0;
    std::optional<std::uint8_t> rtx_payload_type;
    std::uint32_t local_ssrc = 0;     // what Junction's RTCP is sent from
  };

  video_layer(settings s, owner& o, junction::shard& home, worker_pool& workers, std::size_t worker);

  const std::string& rid() const noexcept { return s_.rid; }
  // The browser's SSRC for the layer (0 until its first packet) and for its RTX stream.
  std::uint32_t ssrc() const noexcept { return ssrc_; }
  std::uint32_t rtx_ssrc() const noexcept { return rtx_ssrc_; }
  // One packet of the layer, parsed; `datagram` is the whole of it.
  void on_packet(std::span<const std::uint8_t> datagram, const media::rtp::packet& p);
  // Every 20 ms: packets whose wait for a lost one is over, NACKs due again.
  void tick(clock::time_point now);
  // A player needs a keyframe: an IDR from the transcoder, else the browser's.
  void request_keyframe();
  // A PLI now, or as soon as the last one is 500 ms old, until a keyframe arrives.
  void ask_browser_for_keyframe();
  void set_transcoding(bool on);
  bool transcoding() const noexcept { return transcoder_ != nullptr; }

  // Media bytes received (not RTX), and packets missing, since the start.
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::uint64_t packets() const noexcept { return packets_; }
  std::uint64_t missing() const;
  // The picture's size in pixels (width times height) from its last keyframe (VP8) or sequence
  // parameter set (H.264); 0 until one came.
  std::uint64_t area() const noexcept { return area_; }
  // The last H.264 sequence header the layer gave (what a player switched to it needs first).
  const std::optional<media::frame>& sequence_header() const noexcept { return sequence_header_; }

 private:
  void on_media_packet(std::span<const std::uint8_t> datagram, std::uint16_t sequence, std::uint32_t ssrc,
                       bool retransmission);
  void drain(clock::time_point now);
  void on_ordered(const media::rtp::packet& p);
  void transcode(media::frame f);
  void emit(media::frame f);
  void send_nacks(const std::vector<std::uint16_t>& lost);
  void send_pli_when_due();
  void got(const media::frame& f);

  settings s_;
  owner& owner_;
  junction::shard& home_;
  worker_pool& workers_;
  std::size_t worker_;
  std::uint32_t ssrc_ = 0, rtx_ssrc_ = 0;
  std::optional<std::uint32_t> offset_;  // the layer's first packet, from the session's
  media::h264::rtp_depacketizer h264_;
  media::vp8::rtp_depacketizer vp8_;
  media::rtp::nack_tracker losses_;
  media::rtp::jitter_buffer order_{{std::chrono::milliseconds(150), 1024}};
  // Used on the worker only; the results of one that was dropped (an older generation) are not
  // given out.
  std::shared_ptr<transcode::video_transcoder> transcoder_;
  std::uint64_t generation_ = 0;
  bool transcoder_waits_for_keyframe_ = true;
  clock::time_point last_pli_{};
  bool keyframe_wanted_ = false;
  std::uint64_t bytes_ = 0, packets_ = 0;
  std::uint64_t area_ = 0;
  std::optional<media::frame> sequence_header_;
};

}  // namespace junction::whip
