#pragma once
// What the run starts and stops for each stream: an RTMP publisher (rtmp_publisher.hpp), or the
// same frames as RTP to a media server's port (rtp_publisher.hpp: Janus's streaming plugin).
namespace junction::load {

class stream_publisher {
 public:
  virtual ~stream_publisher() = default;
  virtual void start() = 0;  // on the shard's thread
  virtual void stop() = 0;
};

}  // namespace junction::load
