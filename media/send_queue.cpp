#include "media/send_queue.hpp"

namespace junction::media {

void send_queue::push(entry e) {
  if (count_ == slots_.size()) {
    std::vector<entry> bigger(slots_.empty() ? 16 : slots_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(at(i));
    slots_.swap(bigger);
    head_ = 0;
  }
  at(count_++) = std::move(e);
}

void send_queue::push_control(shared_buffer bytes) {
  bytes_ += bytes.size();
  push({std::move(bytes), false});
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
  push({std::move(bytes), true});
  return true;
}

void send_queue::drop_queued_media() {
  // Control entries keep their order; media ones go. Compacted in place.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    entry& e = at(i);
    if (e.media) {
      bytes_ -= e.bytes.size();
      ++dropped_frames_;
      e.bytes = shared_buffer{};
    } else {
      if (kept != i) at(kept) = std::move(e);
      ++kept;
    }
  }
  for (std::size_t i = kept; i < count_; ++i) at(i).bytes = shared_buffer{};
  count_ = kept;
}

void send_queue::take(std::vector<shared_buffer>& out, std::size_t max_bytes) {
  std::size_t taken = 0;
  while (count_ > 0 && (taken == 0 || taken + at(0).bytes.size() <= max_bytes)) {
    entry& front = at(0);
    taken += front.bytes.size();
    bytes_ -= front.bytes.size();
    out.push_back(std::move(front.bytes));
    front.bytes = shared_buffer{};  // the slot holds no reference once taken
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
  }
}

void send_queue::restart() {
  drop_queued_media();
  skipping_ = false;
  seen_video_ = false;
}

}  // namespace junction::media
