#include "junction-load/frame_stamp.hpp"

namespace junction::load {

namespace {

constexpr std::byte magic[4] = {std::byte{'J'}, std::byte{'L'}, std::byte{'D'}, std::byte{1}};

void put(std::byte*& p, std::uint64_t v, int bytes) noexcept {
  for (int i = bytes - 1; i >= 0; --i) *p++ = std::byte(v >> (8 * i));
}
std::uint64_t get(const std::byte*& p, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | std::to_integer<std::uint64_t>(*p++);
  return v;
}

}  // namespace

void write_stamp(std::span<std::byte> to, const frame_stamp& s) noexcept {
  std::byte* p = to.data();
  for (auto b : magic) *p++ = b;
  put(p, s.stream, 4);
  put(p, static_cast<std::uint8_t>(s.track), 1);
  put(p, s.sequence, 4);
  put(p, static_cast<std::uint64_t>(s.sent_ns), 8);
}

std::optional<frame_stamp> read_stamp(media::track t, std::span<const std::byte> body) noexcept {
  std::size_t offset = 0;
  if (t == media::track::video) {
    // H.264 (codec id 7) NAL units only (AVCPacketType 1), not the sequence header.
    if (body.size() < 2 || (std::to_integer<unsigned>(body[0]) & 0x0F) != 7 || body[1] != std::byte{1})
      return std::nullopt;
    offset = video_stamp_offset;
  } else if (t == media::track::audio) {
    // AAC (sound format 10) raw frames only (AACPacketType 1), not the AudioSpecificConfig.
    if (body.size() < 2 || (std::to_integer<unsigned>(body[0]) >> 4) != 10 || body[1] != std::byte{1})
      return std::nullopt;
    offset = audio_stamp_offset;
  } else {
    return std::nullopt;
  }
  if (body.size() < offset + stamp_size) return std::nullopt;
  const std::byte* p = body.data() + offset;
  for (auto b : magic)
    if (*p++ != b) return std::nullopt;
  frame_stamp s;
  s.stream = static_cast<std::uint32_t>(get(p, 4));
  s.track = static_cast<media::track>(get(p, 1));
  s.sequence = static_cast<std::uint32_t>(get(p, 4));
  s.sent_ns = static_cast<std::int64_t>(get(p, 8));
  if (s.track != t) return std::nullopt;
  return s;
}

}  // namespace junction::load
