#pragma once
// A frame as one shard holds it: the shared frame plus the serialized forms its sinks need (RTMP
// chunks at a chunk size, an FLV tag). The first sink that needs a form makes it; every other
// sink on the shard shares those bytes. Never crosses shards (frames do; each shard wraps its own).
#include "media/frame.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace junction::media {

class shard_frame {
 public:
  explicit shard_frame(media::frame f) : frame_{std::move(f)} {}

  const media::frame& frame() const noexcept { return frame_; }

  // The form identified by `key`, made by `make(frame)` on first use. Keys are chosen by sink
  // kinds (see rtmp and flv sinks); one or two forms per shard is the common case.
  template <class Make>
  shared_buffer encoded(std::uint64_t key, Make&& make) const {
    for (const auto& e : encodings_)
      if (e.key == key) return e.bytes;
    encodings_.push_back({key, make(frame_)});
    return encodings_.back().bytes;
  }

 private:
  struct encoding {
    std::uint64_t key;
    shared_buffer bytes;
  };
  media::frame frame_;
  mutable std::vector<encoding> encodings_;
};

using shard_frame_ptr = std::shared_ptr<const shard_frame>;

inline shard_frame_ptr wrap(frame f) { return std::make_shared<const shard_frame>(std::move(f)); }

}  // namespace junction::media
