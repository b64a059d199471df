#include "media/send_queue.hpp"

namespace junction::media {

void send_queue::push_control(shared_buffer bytes) {
  bytes_ += bytes.size();
  entries_.push_back({std::move(bytes), false});
}

bool send_queue::push_media(shared_buffer bytes, const frame& f) {
  if (f.is_video()) seen_video_ = true;
  // Metadata and decoder configurations are small and a decoder needs them whatever it skips.
  const bool essential = f.config || f.track == track::data;
  if (skipping_ && !essential) {
    // Resume at a video keyframe; an audio-only stream resumes once the queue has drained.
    const bool resume = seen_video_ ? (f.is_video() && f.keyframe) : bytes_ < max_bytes_ / 2;
    if (!resume) {
      ++dropped_frames_;
      return false;
    }
    skipping_ = false;
  }
  // The budget bounds what is owed *ahead of* a frame, not the frame itself: a keyframe bigger
  // than the whole budget still reaches a consumer that keeps up, even when a small audio frame
  // happens to be waiting for the writer. The queue holds at most max_bytes plus one frame (and
  // frames are shared with the shard's other sinks, so that frame costs no extra memory).
  if (!essential && bytes_ >= max_bytes_) {
    drop_queued_media();
    skipping_ = true;
    ++skips_;
    ++dropped_frames_;
    return false;
  }
  bytes_ += bytes.size();
  entries_.push_back({std::move(bytes), true});
  return true;
}

void send_queue::drop_queued_media() {
  std::deque<entry> kept;
  for (auto& e : entries_) {
    if (e.media) {
      bytes_ -= e.bytes.size();
      ++dropped_frames_;
    } else {
      kept.push_back(std::move(e));
    }
  }
  entries_.swap(kept);
}

void send_queue::take(std::vector<shared_buffer>& out, std::size_t max_bytes) {
  std::size_t taken = 0;
  while (!entries_.empty() && (taken == 0 || taken + entries_.front().bytes.size() <= max_bytes)) {
    taken += entries_.front().bytes.size();
    bytes_ -= entries_.front().bytes.size();
    out.push_back(std::move(entries_.front().bytes));
    entries_.pop_front();
  }
}

void send_queue::restart() {
  drop_queued_media();
  skipping_ = false;
  seen_video_ = false;
}

}  // namespace junction::media
