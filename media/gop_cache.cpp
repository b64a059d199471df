#include "media/gop_cache.hpp"

namespace junction::media {

void gop_cache::add(const shard_frame_ptr& f) {
  const frame& fr = f->frame();
  if (fr.track == track::data) {
    metadata_ = f;  // onMetaData: the latest wins
    return;
  }
  if (fr.config) {
    (fr.is_video() ? video_config_ : audio_config_) = f;
    return;
  }
  if (!options_.enabled) return;
  if (fr.is_video() && fr.keyframe) {
    group_.clear();
    group_bytes_ = 0;
    in_group_ = true;
  }
  if (!in_group_) return;
  group_bytes_ += fr.payload.size();
  if (group_bytes_ > options_.max_bytes) {
    group_.clear();
    group_bytes_ = 0;
    in_group_ = false;
    return;
  }
  group_.push_back(f);
}

void gop_cache::clear() {
  metadata_.reset();
  video_config_.reset();
  audio_config_.reset();
  group_.clear();
  group_bytes_ = 0;
  in_group_ = false;
}

}  // namespace junction::media
