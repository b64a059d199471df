#pragma once
// The bounded queue between a sink and its socket writer (RTMP player, HTTP-FLV client). Bytes
// are already serialized and shared with the shard's other sinks; the queue only holds
// references. A consumer slower than its stream never makes the server grow memory or delay
// anyone else: once `max_bytes` are waiting, its queued media is dropped and it skips ahead to
// the next video keyframe, where a decoder can start again.
#include "core/shared_buffer.hpp"
#include "media/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace junction::media {

class send_queue {
 public:
  explicit send_queue(std::size_t max_bytes) : max_bytes_{max_bytes} {}

  // Protocol bytes (replies, status messages): never dropped.
  void push_control(shared_buffer bytes);
  // The serialized form of `f`. Returns false when the frame was dropped.
  bool push_media(shared_buffer bytes, const frame& f);
  // Moves queued buffers into `out` (at least one if any, then up to `max_bytes` in all) for one
  // gathered write. Taken bytes are no longer counted or dropped.
  void take(std::vector<shared_buffer>& out, std::size_t max_bytes);
  // Forget queued media and wait for a keyframe (the stream restarted).
  void restart();

  bool empty() const noexcept { return count_ == 0; }
  std::size_t bytes() const noexcept { return bytes_; }
  bool skipping() const noexcept { return skipping_; }
  std::uint64_t dropped_frames() const noexcept { return dropped_frames_; }
  std::uint64_t skips() const noexcept { return skips_; }

 private:
  struct entry {
    shared_buffer bytes;
    bool media = false;
  };
  void drop_queued_media();
  void push(entry e);
  entry& at(std::size_t i) noexcept { return slots_[(head_ + i) & (slots_.size() - 1)]; }

  std::size_t max_bytes_;
  // A ring of entries (a power of two in size) that grows and never shrinks: a player's queue
  // cycles thousands of frames a minute, and a deque allocated and freed a block every few
  // dozen of them (9% of a 500-player fan-out's samples were in malloc and free).
  std::vector<entry> slots_;
  std::size_t head_ = 0, count_ = 0;
  std::size_t bytes_ = 0;
  bool skipping_ = false;
  bool seen_video_ = false;
  std::uint64_t dropped_frames_ = 0;
  std::uint64_t skips_ = 0;
};

}  // namespace junction::media
