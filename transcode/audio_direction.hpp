#pragma once
// One direction of audio transcoding as a call or a WebRTC session runs it on its worker: the
// transcoder is made with the first packet (so the shard never waits for libavcodec), a pair of
// formats that cannot be transcoded is said once in the log and then skipped, and output
// timestamps count from the first packet out: an encoder's look-ahead puts that packet before 0
// (Speex by 40 samples at 8 kHz, AAC by 1,024), and counting from it makes the timestamps step
// by exactly one frame from the first packet on. Used by one thread at a time.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "transcode/audio_format.hpp"
#include "transcode/audio_transcoder.hpp"

namespace junction::transcode {

class audio_direction {
 public:
  audio_direction(audio_format in, audio_format out, int frame_ms = 20)
      : in_(std::move(in)), out_(std::move(out)), frame_ms_(frame_ms) {}

  // One input packet; the packets out, pts from the first packet out (nothing once failed).
  std::vector<audio_packet> push(std::span<const std::uint8_t> packet);
  // The output codec's setup data once the first packet went in (AAC: its AudioSpecificConfig).
  std::vector<std::uint8_t> output_extradata() const;

  const audio_format& input() const noexcept { return in_; }
  const audio_format& output() const noexcept { return out_; }
  bool failed() const noexcept { return failed_; }

 private:
  audio_format in_, out_;
  int frame_ms_;
  std::unique_ptr<audio_transcoder> transcoder_;
  bool failed_ = false;
  std::optional<std::int64_t> first_pts_;
};

}  // namespace junction::transcode
