#include "junction-load/synthetic_source.hpp"

#include "junction-load/frame_stamp.hpp"
#include "media/amf/amf0.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace junction::load {

namespace {

// FLV video tag body of an AVC sequence header: keyframe + AVC (0x17), AVCPacketType 0,
// composition time 0, then the AVCDecoderConfigurationRecord x264 wrote for 640x360 Constrained
// Baseline level 3.0 (one SPS with VUI timing for 25 fps, one PPS).
constexpr unsigned char avc_sequence_header[] = {
    0x17, 0x00, 0x00, 0x00, 0x00,                                      // FLV/AVC header
    0x01, 0x42, 0xC0, 0x1E, 0xFF, 0xE1, 0x00, 0x19,                    // record, 1 SPS of 25
    0x67, 0x42, 0xC0, 0x1E, 0xD9, 0x00, 0xA0, 0x2F, 0xF9, 0x70, 0x11, 0x00, 0x00,
    0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0F, 0x16, 0x2E, 0x48,
    0x01, 0x00, 0x05, 0x68, 0xCB, 0x83, 0xCB, 0x20};                   // 1 PPS of 5
// AAC (10), 44 kHz, 16-bit, stereo (0xAF); AACPacketType 0; AudioSpecificConfig: AAC LC,
// 44100 Hz, 2 channels.
constexpr unsigned char aac_sequence_header[] = {0xAF, 0x00, 0x12, 0x10};

shared_buffer bytes_of(std::span<const unsigned char> b) {
  return shared_buffer::copy_of(std::as_bytes(b));
}

shared_buffer metadata_body(const synthetic_settings& s) {
  using media::amf::value;
  std::vector<media::amf::member> m{
      {"duration", value::make_number(0)},
      {"width", value::make_number(640)},
      {"height", value::make_number(360)},
      {"videodatarate", value::make_number(static_cast<double>(s.bitrate) / 1000)},
      {"framerate", value::make_number(s.fps)},
      {"videocodecid", value::make_number(7)},
  };
  if (s.audio_bitrate) {
    m.push_back({"audiodatarate", value::make_number(static_cast<double>(s.audio_bitrate) / 1000)});
    m.push_back({"audiosamplerate", value::make_number(44100)});
    m.push_back({"audiosamplesize", value::make_number(16)});
    m.push_back({"stereo", value::make_boolean(true)});
    m.push_back({"audiocodecid", value::make_number(10)});
  }
  m.push_back({"encoder", value::make_string("junction-load")});
  std::vector<std::byte> body;
  media::amf::encode_amf0(value::make_string("@setDataFrame"), body);
  media::amf::encode_amf0(value::make_string("onMetaData"), body);
  media::amf::encode_amf0(value::make_ecma_array(std::move(m)), body);
  return shared_buffer::copy_of(body);
}

}  // namespace

synthetic_source::synthetic_source(synthetic_settings settings, std::uint32_t stream_index)
    : settings_{settings}, stream_{stream_index} {
  constexpr std::size_t min_video = video_stamp_offset + stamp_size;
  constexpr std::size_t min_audio = audio_stamp_offset + stamp_size;
  const double average = static_cast<double>(settings_.bitrate) / 8 / settings_.fps;
  const double inter = average * settings_.gop / (settings_.gop + keyframe_ratio - 1);
  inter_size_ = std::max(min_video, static_cast<std::size_t>(std::llround(inter)));
  keyframe_size_ = std::max(min_video, static_cast<std::size_t>(std::llround(inter * keyframe_ratio)));
  if (settings_.audio_bitrate) {
    const double audio = static_cast<double>(settings_.audio_bitrate) / 8 * audio_frame_samples / audio_rate;
    audio_size_ = std::max(min_audio, static_cast<std::size_t>(std::llround(audio)));
  }
}

std::vector<media::frame> synthetic_source::header_frames() {
  std::vector<media::frame> out;
  out.push_back(media::make_frame(media::track::data, 0, metadata_body(settings_)));
  out.push_back(media::make_frame(media::track::video, 0, bytes_of(avc_sequence_header)));
  if (settings_.audio_bitrate)
    out.push_back(media::make_frame(media::track::audio, 0, bytes_of(aac_sequence_header)));
  return out;
}

std::chrono::nanoseconds synthetic_source::video_due(std::uint64_t n) const noexcept {
  return std::chrono::nanoseconds{static_cast<std::int64_t>(static_cast<double>(n) * 1e9 / settings_.fps)};
}

std::chrono::nanoseconds synthetic_source::audio_due(std::uint64_t n) const noexcept {
  // Exact in integers: n * 1024 / 44100 seconds.
  return std::chrono::nanoseconds{static_cast<std::int64_t>(n * audio_frame_samples * 1'000'000'000 / audio_rate)};
}

media::frame synthetic_source::video_frame(std::uint64_t n, std::int64_t now_ns) const {
  const bool key = n % settings_.gop == 0;
  const std::size_t size = key ? keyframe_size_ : inter_size_;
  const auto ts = static_cast<std::uint32_t>(std::llround(static_cast<double>(n) * 1000 / settings_.fps));
  auto body = shared_buffer::build(size, [&](std::span<std::byte> b) {
    const std::uint32_t nal_size = static_cast<std::uint32_t>(size - 9);
    const unsigned char head[] = {static_cast<unsigned char>(key ? 0x17 : 0x27), 0x01, 0, 0, 0,
                                  static_cast<unsigned char>(nal_size >> 24),
                                  static_cast<unsigned char>(nal_size >> 16),
                                  static_cast<unsigned char>(nal_size >> 8),
                                  static_cast<unsigned char>(nal_size),
                                  // NAL header: nal_ref_idc 3, type 5 (IDR slice) or 1 (slice)
                                  static_cast<unsigned char>(key ? 0x65 : 0x41)};
    std::memcpy(b.data(), head, sizeof head);
    write_stamp(b.subspan(video_stamp_offset),
                {stream_, media::track::video, static_cast<std::uint32_t>(n), now_ns});
    std::memset(b.data() + video_stamp_offset + stamp_size, 0xA5, size - video_stamp_offset - stamp_size);
  });
  return media::make_frame(media::track::video, ts, std::move(body));
}

media::frame synthetic_source::audio_frame(std::uint64_t n, std::int64_t now_ns) const {
  const auto ts = static_cast<std::uint32_t>(n * audio_frame_samples * 1000 / audio_rate);
  auto body = shared_buffer::build(audio_size_, [&](std::span<std::byte> b) {
    b[0] = std::byte{0xAF};
    b[1] = std::byte{0x01};
    write_stamp(b.subspan(audio_stamp_offset),
                {stream_, media::track::audio, static_cast<std::uint32_t>(n), now_ns});
    std::memset(b.data() + audio_stamp_offset + stamp_size, 0x5A, audio_size_ - audio_stamp_offset - stamp_size);
  });
  return media::make_frame(media::track::audio, ts, std::move(body));
}

std::chrono::nanoseconds synthetic_source::take_due(std::chrono::nanoseconds elapsed, std::int64_t now_ns,
                                                    std::vector<media::frame>& out) {
  const bool audio = settings_.audio_bitrate != 0;
  for (;;) {
    const auto v = video_due(video_next_);
    const auto a = audio ? audio_due(audio_next_) : std::chrono::nanoseconds::max();
    const auto next = std::min(v, a);
    if (next > elapsed) return next;
    // In timestamp order across tracks, as an encoder's muxer interleaves them.
    if (a < v) out.push_back(audio_frame(audio_next_++, now_ns));
    else out.push_back(video_frame(video_next_++, now_ns));
  }
}

}  // namespace junction::load
