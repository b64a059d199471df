#pragma once
// One stream played on an RTMP connection: a sink of the media hub that turns frames into RTMP
// chunks (made once per shard, chunk size and stream id, and shared by every player alike) and
// queues them on its connection.
#include "media/send_queue.hpp"
#include "media/sink.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace junction::rtmp {

class server_protocol;

// What a player needs from its connection.
class player_host {
 public:
  virtual ~player_host() = default;
  virtual server_protocol& protocol() noexcept = 0;
  // Queues the serialized form of a frame (or drops it, for a slow consumer) and wakes the writer.
  virtual void enqueue_media(shared_buffer bytes, const media::frame& f) = 0;
  // Moves the protocol's pending replies into the queue and wakes the writer.
  virtual void flush() = 0;
};

class player final : public media::sink {
 public:
  player(player_host& host, std::uint32_t stream_id, std::string name, std::string key)
      : host_{host}, stream_id_{stream_id}, name_{std::move(name)}, key_{std::move(key)} {}

  void on_start() override;
  void on_frame(const media::shard_frame_ptr& f) override;
  void on_stop() override;

  void pause(bool paused);
  void receive(bool video, bool enabled) { (video ? video_ : audio_) = enabled; }

  std::uint32_t stream_id() const noexcept { return stream_id_; }
  const std::string& name() const noexcept { return name_; }
  const std::string& key() const noexcept { return key_; }
  // When the publisher left and has not come back yet.
  std::optional<std::chrono::steady_clock::time_point> orphaned_since() const noexcept {
    return orphaned_since_;
  }

 private:
  player_host& host_;
  std::uint32_t stream_id_;
  std::string name_, key_;
  bool audio_ = true, video_ = true, paused_ = false;
  bool need_keyframe_ = true;  // video starts at a keyframe (always true of a GOP-cached start)
  bool notified_stop_ = false;
  std::optional<std::chrono::steady_clock::time_point> orphaned_since_;
};

}  // namespace junction::rtmp
