#pragma once
// The Opus that a shard's WHEP players of one stream hear. RTMP publishers send AAC, which
// browsers do not decode: one AAC -> Opus transcoder per stream and shard, on a worker, serves
// every player of that stream on the shard (so a hundred players cost one transcoder, not a
// hundred). It is a sink of the hub for as long as a player listens, and starts a new transcoder
// when the publisher changes (its AAC configuration may have).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "media/sink.hpp"
#include "transcode/audio_direction.hpp"

namespace junction {
class shard;
class worker_pool;
}
namespace junction::media {
class stream_hub;
}

namespace junction::whip {

class opus_rendition final : public media::sink, public std::enable_shared_from_this<opus_rendition> {
 public:
  class listener {
   public:
    virtual ~listener() = default;
    // One Opus packet (20 ms); `clock` is its time on the stream's timeline in 48 kHz units
    // (the frame timestamps' milliseconds times 48).
    virtual void on_opus(std::span<const std::uint8_t> packet, std::uint32_t clock) = 0;
  };

  opus_rendition(junction::shard& home, media::stream_hub& hub, worker_pool& workers, std::string key);
  ~opus_rendition() override;

  // The first listener subscribes to the hub, the last one leaving unsubscribes.
  void add(listener& l);
  void remove(listener& l);
  bool idle() const noexcept { return listeners_.empty(); }

  void on_start() override;
  void on_frame(const media::shard_frame_ptr& f) override;
  void on_stop() override;

 private:
  void deliver(std::uint64_t generation, const std::vector<transcode::audio_packet>& packets, std::uint32_t first_ms);

  junction::shard& home_;
  media::stream_hub& hub_;
  worker_pool& workers_;
  std::size_t worker_;
  std::string key_;
  std::vector<listener*> listeners_;
  std::shared_ptr<transcode::audio_direction> direction_;
  std::vector<std::uint8_t> aac_config_;
  std::uint64_t generation_ = 0;  // a new transcoder's results do not mix with the old one's
  std::optional<std::uint32_t> first_ms_;
};

}  // namespace junction::whip
