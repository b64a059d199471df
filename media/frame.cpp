#include "media/frame.hpp"

#include <array>

namespace junction::media {

std::string_view codec_name(codec c) noexcept {
  static constexpr std::array<std::string_view, 26> names{
      "unknown", "sorenson_h263", "screen_video", "vp6",  "vp6_alpha", "screen_video2",
      "h264",    "hevc",          "av1",          "vp9",  "vp8",       "pcm",       "adpcm",
      "mp3",     "pcm_le",        "nellymoser",   "g711a", "g711u",    "aac",
      "speex",   "opus",          "flac",         "ac3",  "eac3",      "g722",
      "amf0"};
  auto i = static_cast<std::size_t>(c);
  return i < names.size() ? names[i] : "unknown";
}

namespace {

std::uint32_t fourcc(std::span<const std::byte> b) {
  return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 |
         std::uint32_t(b[3]);
}
constexpr std::uint32_t fourcc(const char (&s)[5]) {
  return std::uint32_t(std::uint8_t(s[0])) << 24 | std::uint32_t(std::uint8_t(s[1])) << 16 |
         std::uint32_t(std::uint8_t(s[2])) << 8 | std::uint32_t(std::uint8_t(s[3]));
}

void inspect_video(frame& f) {
  auto body = f.payload.bytes();
  if (body.empty()) return;
  auto first = std::to_integer<std::uint8_t>(body[0]);
  // Enhanced RTMP (veovera enhanced-rtmp v1): the top bit marks an extended header; frame type
  // in bits 4-6, packet type in the low nibble, then a FourCC.
  if (first & 0x80) {
    unsigned frame_type = (first >> 4) & 0x07;
    unsigned packet_type = first & 0x0F;
    f.keyframe = frame_type == 1;
    f.config = packet_type == 0;  // PacketTypeSequenceStart
    if (body.size() >= 5) {
      switch (fourcc(body.subspan(1, 4))) {
        case fourcc("hvc1"): f.codec = codec::hevc; break;
        case fourcc("av01"): f.codec = codec::av1; break;
        case fourcc("vp09"): f.codec = codec::vp9; break;
        case fourcc("vp08"): f.codec = codec::vp8; break;
        case fourcc("avc1"): f.codec = codec::h264; break;
        default: break;
      }
    }
    return;
  }
  unsigned frame_type = first >> 4;
  f.keyframe = frame_type == 1;
  switch (first & 0x0F) {
    case 2: f.codec = codec::sorenson_h263; break;
    case 3: f.codec = codec::screen_video; break;
    case 4: f.codec = codec::vp6; break;
    case 5: f.codec = codec::vp6_alpha; break;
    case 6: f.codec = codec::screen_video2; break;
    case 7: f.codec = codec::h264; break;
    case 12: f.codec = codec::hevc; break;  // the pre-enhanced-RTMP convention (Chinese CDNs)
    default: break;
  }
  // AVCPacketType 0: AVCDecoderConfigurationRecord. Frame type 5 is a video info/command frame,
  // not a picture: never a keyframe for a decoder.
  if ((f.codec == codec::h264 || f.codec == codec::hevc) && body.size() >= 2)
    f.config = std::to_integer<std::uint8_t>(body[1]) == 0;
  if (frame_type == 5) f.keyframe = false;
}

void inspect_audio(frame& f) {
  auto body = f.payload.bytes();
  if (body.empty()) return;
  auto first = std::to_integer<std::uint8_t>(body[0]);
  switch (first >> 4) {
    case 0: f.codec = codec::pcm; break;
    case 1: f.codec = codec::adpcm; break;
    case 2: case 14: f.codec = codec::mp3; break;
    case 3: f.codec = codec::pcm_le; break;
    case 4: case 5: case 6: f.codec = codec::nellymoser; break;
    case 7: f.codec = codec::g711a; break;
    case 8: f.codec = codec::g711u; break;
    case 10: f.codec = codec::aac; break;
    case 11: f.codec = codec::speex; break;
    case 9: {
      // Enhanced RTMP audio (v2): SoundFormat 9 = ExHeader, packet type low nibble, FourCC.
      f.config = (first & 0x0F) == 0;
      if (body.size() >= 5) {
        switch (fourcc(body.subspan(1, 4))) {
          case fourcc("Opus"): f.codec = codec::opus; break;
          case fourcc("fLaC"): f.codec = codec::flac; break;
          case fourcc("ac-3"): f.codec = codec::ac3; break;
          case fourcc("ec-3"): f.codec = codec::eac3; break;
          case fourcc(".mp3"): f.codec = codec::mp3; break;
          case fourcc("mp4a"): f.codec = codec::aac; break;
          default: break;
        }
      }
      return;
    }
    default: break;
  }
  // AACPacketType 0: AudioSpecificConfig.
  if (f.codec == codec::aac && body.size() >= 2) f.config = std::to_integer<std::uint8_t>(body[1]) == 0;
}

}  // namespace

frame make_frame(track t, std::uint32_t timestamp, shared_buffer payload) {
  frame f;
  f.track = t;
  f.timestamp = timestamp;
  f.payload = std::move(payload);
  switch (t) {
    case track::video: inspect_video(f); break;
    case track::audio: inspect_audio(f); break;
    case track::data: f.codec = codec::amf0_script; break;
  }
  return f;
}

}  // namespace junction::media
