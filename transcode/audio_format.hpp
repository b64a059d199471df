#pragma once
// Audio as the transcoder sees it: a codec of the frame model with its sample rate and channel
// count, and the codec-specific setup (AAC's AudioSpecificConfig). Plus the FLV audio tag header
// that wraps codec packets on the RTMP side (Adobe FLV spec, AUDIODATA): which codecs and rates
// Flash can carry, and how to read and write that header.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/frame.hpp"

namespace junction::media::sdp {
struct codec;
}

namespace junction::transcode {

struct audio_format {
  media::codec codec = media::codec::unknown;
  int sample_rate = 8000;
  int channels = 1;
  std::vector<std::uint8_t> extradata{};  // AAC AudioSpecificConfig; empty otherwise
  int bitrate = 0;                      // encoders: 0 = the codec's usual
  friend bool operator==(const audio_format&, const audio_format&) = default;
};

// FLV SoundFormat codes and the header byte(s) before the codec data.
struct flv_audio {
  audio_format format;
  bool aac_config = false;         // an AAC sequence header (the AudioSpecificConfig itself)
  std::span<const std::uint8_t> data;  // the codec packet after the header
};
std::optional<flv_audio> read_flv_audio(std::span<const std::uint8_t> body);
// The header for a codec packet of `f` (1 byte, 2 for AAC); nothing for codecs FLV cannot carry.
std::optional<std::vector<std::uint8_t>> flv_audio_header(const audio_format& f, bool aac_config = false);

std::string_view describe(const audio_format& f);

// The format an SDP codec (an rtpmap) names, for the codecs Junction decodes and encodes on the
// SIP side (PCMU, PCMA, G.722, Speex, Opus); nothing for the others.
std::optional<audio_format> audio_format_of(const media::sdp::codec& c);

}  // namespace junction::transcode
