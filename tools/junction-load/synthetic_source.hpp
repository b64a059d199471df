#pragma once
// Frames shaped like an H.264 + AAC stream, generated: a real (small) AVC sequence header and
// AudioSpecificConfig so that FFmpeg and servers that inspect them accept the stream, then
// frames of the right sizes at the right times, each carrying a frame_stamp. The pictures and
// sound are not decodable; nothing on the relay path decodes them.
//
// Sizes: a keyframe every `gop` frames, five times the size of an inter frame (a usual ratio
// for live encoders), so that a group of pictures averages `bitrate`. Audio: 1024-sample AAC
// frames at 44.1 kHz (about 43 per second), each audio_bitrate / 8 * 1024 / 44100 bytes.
#include "junction-load/frame_source.hpp"

#include <cstddef>
#include <cstdint>

namespace junction::load {

struct synthetic_settings {
  std::uint64_t bitrate = 2'000'000;
  double fps = 25;
  unsigned gop = 50;
  std::uint64_t audio_bitrate = 128'000;  // 0: video only
};

class synthetic_source final : public frame_source {
 public:
  static constexpr unsigned keyframe_ratio = 5;
  static constexpr unsigned audio_rate = 44100;
  static constexpr unsigned audio_frame_samples = 1024;

  synthetic_source(synthetic_settings settings, std::uint32_t stream_index);

  std::vector<media::frame> header_frames() override;
  std::chrono::nanoseconds take_due(std::chrono::nanoseconds elapsed, std::int64_t now_ns,
                                    std::vector<media::frame>& out) override;

  std::size_t keyframe_size() const noexcept { return keyframe_size_; }  // FLV tag body bytes
  std::size_t inter_frame_size() const noexcept { return inter_size_; }
  std::size_t audio_frame_size() const noexcept { return audio_size_; }

 private:
  std::chrono::nanoseconds video_due(std::uint64_t n) const noexcept;
  std::chrono::nanoseconds audio_due(std::uint64_t n) const noexcept;
  media::frame video_frame(std::uint64_t n, std::int64_t now_ns) const;
  media::frame audio_frame(std::uint64_t n, std::int64_t now_ns) const;

  synthetic_settings settings_;
  std::uint32_t stream_;
  std::size_t keyframe_size_ = 0, inter_size_ = 0, audio_size_ = 0;
  std::uint64_t video_next_ = 0, audio_next_ = 0;  // frames generated so far, per track
};

}  // namespace junction::load
