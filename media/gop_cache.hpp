#pragma once
// What a late joiner needs to start decoding at once: the stream's metadata, its decoder
// configurations (sequence headers), and every frame since the latest video keyframe.
#include "media/shard_frame.hpp"

#include <cstddef>
#include <vector>

namespace junction::media {

struct gop_cache_options {
  bool enabled = true;
  // A GOP longer than this (a stream with rare keyframes) is not cached: late joiners then wait
  // for the next keyframe instead of the server holding unbounded memory per stream.
  std::size_t max_bytes = 16 << 20;
};

class gop_cache {
 public:
  explicit gop_cache(gop_cache_options options = {}) : options_{options} {}

  // Records a frame in arrival order. Metadata and sequence headers replace the previous ones;
  // a video keyframe starts a new group.
  void add(const shard_frame_ptr& f);
  void clear();

  // Replays the cache in the order a player needs it: metadata, configs, then the group.
  template <class Visit>
  void replay(Visit&& visit) const {
    if (metadata_) visit(metadata_);
    if (video_config_) visit(video_config_);
    if (audio_config_) visit(audio_config_);
    for (const auto& f : group_) visit(f);
  }

  const shard_frame_ptr& metadata() const noexcept { return metadata_; }
  const shard_frame_ptr& video_config() const noexcept { return video_config_; }
  const shard_frame_ptr& audio_config() const noexcept { return audio_config_; }
  std::size_t group_frames() const noexcept { return group_.size(); }
  std::size_t group_bytes() const noexcept { return group_bytes_; }

 private:
  gop_cache_options options_;
  shard_frame_ptr metadata_, video_config_, audio_config_;
  std::vector<shard_frame_ptr> group_;
  std::size_t group_bytes_ = 0;
  bool in_group_ = false;  // a keyframe was seen and the group has stayed under the cap
};

}  // namespace junction::media
