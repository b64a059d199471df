#include "rtmp/player.hpp"

#include "rtmp/chunk_writer.hpp"
#include "rtmp/message.hpp"
#include "rtmp/server_protocol.hpp"

namespace junction::rtmp {

namespace {
std::uint32_t chunk_stream_for(media::track t) {
  switch (t) {
    case media::track::audio: return csid::audio;
    case media::track::video: return csid::video;
    case media::track::data: return csid::media_data;
  }
  return csid::media_data;
}
}  // namespace

void player::on_start() {
  need_keyframe_ = true;
  orphaned_since_.reset();
  if (notified_stop_) {
    notified_stop_ = false;
    host_.protocol().publish_notify(stream_id_, name_);
    host_.flush();
  }
}

void player::on_stop() {
  notified_stop_ = true;
  orphaned_since_ = std::chrono::steady_clock::now();
  host_.protocol().unpublish_notify(stream_id_, name_);
  host_.flush();
}

void player::pause(bool paused) {
  paused_ = paused;
  if (!paused) need_keyframe_ = true;
}

void player::on_frame(const media::shard_frame_ptr& f) {
  const media::frame& fr = f->frame();
  if (paused_ || (fr.is_audio() && !audio_) || (fr.is_video() && !video_)) return;
  if (fr.is_video() && !fr.config) {
    if (need_keyframe_ && !fr.keyframe) return;
    need_keyframe_ = false;
  }
  const std::uint32_t chunk_size = host_.protocol().out_chunk_size();
  // Every player of this shard with the same chunk size and stream id shares these bytes.
  const std::uint64_t form = std::uint64_t{chunk_size} << 32 | stream_id_;
  auto bytes = f->encoded(form, [&](const media::frame& x) {
    return chunked(chunk_stream_for(x.track), static_cast<std::uint8_t>(x.track), x.timestamp,
                   stream_id_, x.payload.bytes(), chunk_size);
  });
  host_.enqueue_media(std::move(bytes), fr);
}

}  // namespace junction::rtmp
