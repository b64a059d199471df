#pragma once
// FLV container framing (Adobe FLV spec v10.1, annex E): the file header and tags that HTTP-FLV
// streams and recorders write. A frame's payload is already an FLV tag body.
#include "core/shared_buffer.hpp"
#include "media/frame.hpp"

#include <array>
#include <cstddef>

namespace junction::media::flv {

inline constexpr std::size_t header_size = 9;
inline constexpr std::size_t tag_header_size = 11;
inline constexpr std::size_t previous_tag_size_field = 4;

// "FLV", version 1, the audio/video flags, header length 9, then PreviousTagSize0 = 0.
std::array<std::byte, header_size + previous_tag_size_field> file_header(bool audio, bool video);

// One whole tag: 11-byte header, the frame's payload, PreviousTagSize. One allocation, so every
// HTTP-FLV client of a shard shares it.
shared_buffer tag(const frame& f);

}  // namespace junction::media::flv
