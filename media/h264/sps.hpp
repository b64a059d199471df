#pragma once
// The picture size a sequence parameter set (ITU-T H.264 §7.3.2.1.1) gives: macroblocks, frame
// or field coding, cropping, read through every field before them (high profiles' chroma format
// and scaling lists, each picture order count type). Pure.
#include <cstdint>
#include <optional>

#include "media/frame.hpp"
#include "media/h264/parameter_sets.hpp"

namespace junction::media::h264 {

struct picture_size {
  unsigned width = 0, height = 0;
  friend bool operator==(const picture_size&, const picture_size&) = default;
};

// `sps` is the NAL unit, header byte included, emulation prevention bytes still in; nothing when
// it is not an SPS or runs out.
std::optional<picture_size> sps_picture_size(bytes sps);
// The same for an H.264 sequence header frame (FLV AVC, packet type 0): its first SPS's size;
// nothing for any other frame.
std::optional<picture_size> sequence_header_picture_size(const frame& f);

}  // namespace junction::media::h264
