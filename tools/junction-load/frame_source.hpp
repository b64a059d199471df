#pragma once
// Where a publisher's frames come from: generated (synthetic_source) or read from a file
// (flv_file_source). A source knows when each frame is due; the publisher keeps the clock.
#include "media/frame.hpp"

#include <chrono>
#include <cstdint>
#include <vector>

namespace junction::load {

class frame_source {
 public:
  virtual ~frame_source() = default;
  // Metadata and decoder configuration, sent once before the first timed frame.
  virtual std::vector<media::frame> header_frames() = 0;
  // Appends every frame due `elapsed` after the start, in order, marked as sent at `now_ns`
  // (steady clock); returns the time after the start when the next frame is due.
  virtual std::chrono::nanoseconds take_due(std::chrono::nanoseconds elapsed, std::int64_t now_ns,
                                            std::vector<media::frame>& out) = 0;
};

}  // namespace junction::load
