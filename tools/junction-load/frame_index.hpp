#pragma once
// Which frame is which, for streams whose frames carry no stamp (an FLV file's real H.264 and
// AAC, sent unchanged). The publisher records each frame it sends: its per-track index, RTMP
// timestamp and send time; a player that receives a frame with timestamp T looks up which index
// that was, to count gaps and latency as it does with stamps.
//
// One publisher (one shard) writes, players on every shard read: each track is a pre-sized ring
// of atomics, so neither side ever waits. A slot packs index and timestamp into one 64-bit
// atomic so a reader never pairs one frame's index with another's timestamp; the send time
// beside it could only be torn if the ring wrapped during the read (capacity frames later).
#include "media/frame.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace junction::load {

class frame_index {
 public:
  // capacity: frames remembered per track (16384: over six minutes of 43 fps audio).
  explicit frame_index(std::size_t capacity = 1 << 14);

  // Publisher side: `index` counts each track's frames from 0, one more per call.
  void record(media::track t, std::uint32_t index, std::uint32_t timestamp, std::int64_t sent_ns) noexcept;

  struct entry {
    std::uint32_t index = 0;
    std::int64_t sent_ns = 0;
  };
  // Player side: the frame of track `t` with `timestamp`. `after` is the index of the player's
  // previous frame on that track: the search goes forward from it (the usual case finds the very
  // next one), then back a little (a repeat or a reordering). Without `after` (the player's
  // first frame, maybe from a GOP cache) it goes back from the newest frame recorded.
  std::optional<entry> find(media::track t, std::uint32_t timestamp,
                            std::optional<std::uint32_t> after) const noexcept;

  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct slot {
    std::atomic<std::uint64_t> index_and_timestamp{~std::uint64_t{0}};
    std::atomic<std::int64_t> sent_ns{0};
  };
  struct ring {
    std::unique_ptr<slot[]> slots;
    std::atomic<std::uint64_t> recorded{0};  // frames recorded: the next index
  };
  const ring& ring_of(media::track t) const noexcept { return t == media::track::audio ? audio_ : video_; }
  std::optional<entry> match(const ring& r, std::uint64_t index, std::uint32_t timestamp) const noexcept;

  std::size_t capacity_;
  ring audio_, video_;
};

}  // namespace junction::load
