#pragma once
// The one frame model of the media path. A frame is what sources (RTMP publishers, RTP legs,
// files) push and sinks (RTMP players, HTTP-FLV, RTP legs, recorders) take: a kind, a codec, a
// timestamp, a keyframe flag and a shared, immutable payload. The payload is the FLV tag body
// (the RTMP audio/video/data message body): RTMP and FLV carry it unchanged, so pass-through
// never re-encodes, and other sources convert to it once at their edge.
#include "core/shared_buffer.hpp"

#include <cstdint>
#include <string_view>

namespace junction::media {

// Values are the FLV tag types, so a frame maps onto an FLV tag or RTMP message type directly.
enum class track : std::uint8_t { audio = 8, video = 9, data = 18 };

enum class codec : std::uint8_t {
  unknown,
  // video
  sorenson_h263, screen_video, vp6, vp6_alpha, screen_video2, h264, hevc, av1, vp9,
  vp8,  // enhanced RTMP's 'vp08' (what WebRTC publishers send; FLV players need it transcoded)
  // audio
  pcm, adpcm, mp3, pcm_le, nellymoser, g711a, g711u, aac, speex, opus, flac, ac3, eac3,
  g722,  // SIP only: FLV cannot carry it
  // data
  amf0_script,
};

std::string_view codec_name(codec c) noexcept;

struct frame {
  media::track track = media::track::data;
  media::codec codec = media::codec::unknown;
  std::uint32_t timestamp = 0;  // milliseconds, the source's timeline
  bool keyframe = false;        // video: a decoder can start here
  bool config = false;          // decoder configuration (AVC/HEVC/AV1 sequence header, AAC ASC)
  shared_buffer payload;        // FLV tag body

  bool is_video() const noexcept { return track == media::track::video; }
  bool is_audio() const noexcept { return track == media::track::audio; }
};

// Builds a frame from an FLV tag body, reading codec, keyframe and config from its first bytes
// (legacy FLV headers and enhanced RTMP's FourCC headers). A short or unknown body still makes a
// frame (codec unknown): bytes pass through unchanged whatever they are.
frame make_frame(track t, std::uint32_t timestamp, shared_buffer payload);

}  // namespace junction::media
