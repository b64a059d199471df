#pragma once
// What the synthetic publisher writes into each frame so that players can check delivery: a
// magic, the stream index, the track, a per-track sequence number and the send time (steady
// clock nanoseconds; publishers and players are in the same process, so the clocks agree).
//
// It sits inside the media payload where a relay never looks: in H.264 frames right after the
// NAL unit header (FLV video header 5 bytes, NAL length 4, NAL header 1), in AAC frames right
// after the 2-byte FLV audio header. Servers pass these bytes on untouched.
#include "media/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace junction::load {

struct frame_stamp {
  std::uint32_t stream = 0;  // the publisher's index in the run
  media::track track = media::track::video;
  std::uint32_t sequence = 0;  // per track, from 0, config frames not counted
  std::int64_t sent_ns = 0;    // steady clock
};

inline constexpr std::size_t stamp_size = 4 + 4 + 1 + 4 + 8;
// Where the stamp starts in an FLV tag body of each kind.
inline constexpr std::size_t video_stamp_offset = 5 + 4 + 1;
inline constexpr std::size_t audio_stamp_offset = 2;

// Writes the stamp at the front of `to`, which holds at least stamp_size bytes.
void write_stamp(std::span<std::byte> to, const frame_stamp& s) noexcept;

// The stamp of a received audio or video tag body, or nullopt when it carries none (a config
// frame, a frame from an encoder or file, too short).
std::optional<frame_stamp> read_stamp(media::track t, std::span<const std::byte> body) noexcept;

}  // namespace junction::load
