#pragma once
// One stream's frames as RTP over UDP to a media server's port (H.264, RFC 6184, payload type
// 96), at real time: what Janus's streaming plugin takes for a mountpoint ("type = rtp"), so
// that Janus and Junction can be given the same frames in a benchmark. Video only.
#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "junction-load/frame_source.hpp"
#include "junction-load/load_shard.hpp"
#include "junction-load/stream_publisher.hpp"
#include "media/h264/rtp_payload.hpp"

namespace junction::load {

class rtp_publisher final : public stream_publisher {
 public:
  rtp_publisher(load_shard& shard, unsigned stream, std::unique_ptr<frame_source> source,
                boost::asio::ip::udp::endpoint to);
  void start() override;
  void stop() override;

 private:
  boost::asio::awaitable<void> run();

  load_shard& shard_;
  unsigned stream_;
  std::unique_ptr<frame_source> source_;
  boost::asio::ip::udp::endpoint to_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer wake_;
  media::h264::rtp_packetizer packetizer_;
  bool stopping_ = false;
};

}  // namespace junction::load
