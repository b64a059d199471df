#pragma once
// A consumer of one live stream on one shard: an RTMP player, an HTTP-FLV client, later an RTP
// leg or a recorder. The hub calls it on the sink's own shard only.
#include "media/shard_frame.hpp"

namespace junction::media {

class sink {
 public:
  virtual ~sink() = default;
  // A publisher is live (at subscription, or when one appears or returns). The cached metadata,
  // sequence headers and group of pictures follow through on_frame.
  virtual void on_start() = 0;
  // Every frame in publish order. Must not block: queue it, or drop it (to the next keyframe)
  // when the consumer is slow.
  virtual void on_frame(const shard_frame_ptr& f) = 0;
  // The publisher left. The sink stays subscribed and gets on_start if one returns.
  virtual void on_stop() = 0;
};

}  // namespace junction::media
