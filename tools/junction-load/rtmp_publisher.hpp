#pragma once
// One publisher: connects, publishes its stream and sends its source's frames at real time
// until the run stops it. A reader answers the server (acknowledgements, pings) beside the
// writer, which alone writes to the socket.
#include "junction-load/frame_source.hpp"
#include "junction-load/load_shard.hpp"
#include "junction-load/rtmp_connection.hpp"
#include "junction-load/stream_publisher.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace junction::load {

class rtmp_publisher final : public stream_publisher {
 public:
  rtmp_publisher(load_shard& shard, unsigned stream, std::unique_ptr<frame_source> source);
  void start() override;  // on the shard's thread
  void stop() override;

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> session();
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  void send(const media::frame& f);
  void close();

  load_shard& shard_;
  unsigned stream_;
  std::unique_ptr<frame_source> source_;
  rtmp_connection conn_;
  boost::asio::steady_timer wake_;
  std::uint32_t stream_id_ = 0;
  std::uint64_t counted_bytes_ = 0;
  bool stopping_ = false;
};

}  // namespace junction::load
