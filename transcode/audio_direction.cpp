#include "transcode/audio_direction.hpp"

#include "core/log.hpp"

namespace junction::transcode {

std::vector<audio_packet> audio_direction::push(std::span<const std::uint8_t> packet) {
  std::vector<audio_packet> out;
  if (failed_) return out;
  if (!transcoder_) {
    std::string why;
    transcoder_ = audio_transcoder::create(in_, out_, frame_ms_, &why);
    if (!transcoder_) {
      failed_ = true;
      log::warn("cannot transcode {} to {}: {}", describe(in_), describe(out_), why);
      return out;
    }
  }
  transcoder_->push(packet, out);
  if (out.empty()) return out;
  if (!first_pts_) first_pts_ = out.front().pts;
  for (auto& p : out) p.pts -= *first_pts_;
  return out;
}

std::vector<std::uint8_t> audio_direction::output_extradata() const {
  return transcoder_ ? transcoder_->output_extradata() : std::vector<std::uint8_t>{};
}

}  // namespace junction::transcode
