#pragma once
// Video transcoding between what old Flash players and SIP phones decode: Sorenson H.263
// (flv1) to H.264 (libx264: constrained baseline, zero latency, no B-frames) for phones that
// lack it, H.264 to flv1 for Flash players that predate H.264, and VP8 (a WebRTC publisher's,
// as enhanced-RTMP 'vp08' frames) to H.264 for RTMP and FLV players. When both sides share a
// codec nothing is transcoded (`needs_transcoding`). Frames in and out are the frame model's
// FLV video bodies, so either side plugs straight into the stream hub. A keyframe request from
// the far end (RTCP PLI/FIR) makes the next output frame a keyframe. One object per direction
// of one call, used by one thread at a time.
#include <memory>
#include <string>
#include <vector>

#include "media/frame.hpp"

namespace junction::transcode {

struct video_settings {
  media::codec codec = media::codec::h264;  // h264 or sorenson_h263
  int bitrate = 500'000;
  int keyframe_interval = 50;   // frames between keyframes when nobody asks for one
  int max_width = 1280, max_height = 720;  // larger input is refused, not scaled
};

bool needs_transcoding(media::codec from, media::codec to) noexcept;

struct video_counters {
  std::uint64_t frames_in = 0, frames_out = 0, decode_errors = 0, keyframes_requested = 0;
};

class video_transcoder {
 public:
  static std::unique_ptr<video_transcoder> create(media::codec from, const video_settings& out,
                                                  std::string* error = nullptr);
  ~video_transcoder();
  video_transcoder(const video_transcoder&) = delete;
  video_transcoder& operator=(const video_transcoder&) = delete;

  // One FLV video body (AVC sequence headers included); FLV video bodies out, the first
  // H.264 output preceded by its sequence header.
  void push(const media::frame& in, std::vector<media::frame>& out);
  void flush(std::vector<media::frame>& out);
  void request_keyframe() noexcept;
  const video_counters& counters() const noexcept;

 private:
  struct impl;
  explicit video_transcoder(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace junction::transcode
