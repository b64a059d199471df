#include "junction-load/rtp_publisher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/spawn.hpp"

namespace junction::load {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

rtp_publisher::rtp_publisher(load_shard& shard, unsigned stream, std::unique_ptr<frame_source> source,
                             asio::ip::udp::endpoint to)
    : shard_{shard},
      stream_{stream},
      source_{std::move(source)},
      to_{to},
      socket_{shard.home().context()},
      wake_{shard.home().context(), clock::time_point::max()},
      packetizer_{media::h264::packetizer_settings{.payload_type = 96, .ssrc = 0x10AD0000u + stream}} {}

void rtp_publisher::start() {
  asio::co_spawn(shard_.home().context(), run(), log_failure{"junction-load rtp publisher"});
}

void rtp_publisher::stop() {
  stopping_ = true;
  wake_.cancel();
}

asio::awaitable<void> rtp_publisher::run() {
  auto& counters = shard_.counters();
  live_counters::add(counters.running);
  boost::system::error_code ec;
  socket_.open(to_.protocol(), ec);
  if (!ec) socket_.set_option(asio::ip::udp::socket::send_buffer_size(4 << 20), ec);
  ec.clear();
  live_counters::add(counters.publishers_done);
  if (!socket_.is_open()) {
    live_counters::add(counters.connect_failures);
    live_counters::sub(counters.running);
    co_return;
  }
  live_counters::add(counters.publishing);
  std::vector<std::vector<std::uint8_t>> packets;
  for (const auto& f : source_->header_frames()) packetizer_.packetize(f, packets);  // keeps the parameter sets
  packets.clear();
  const auto start = clock::now();
  std::vector<media::frame> due;
  auto& published = shard_.plan().published[stream_];
  while (!stopping_) {
    const auto now = clock::now();
    due.clear();
    const auto next = source_->take_due(
        now - start, std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(), due);
    std::uint64_t video = 0;
    for (const auto& f : due) {
      if (!f.is_video()) continue;
      packets.clear();
      packetizer_.packetize(f, packets);
      for (const auto& p : packets) {
        boost::system::error_code ignored;
        live_counters::add(counters.bytes_sent, socket_.send_to(asio::buffer(p), to_, 0, ignored));
      }
      if (!f.config) {
        ++video;
        live_counters::add(counters.frames_sent);
      }
    }
    published.video.store(published.video.load(std::memory_order_relaxed) + video, std::memory_order_relaxed);
    wake_.expires_at(start + next);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  live_counters::sub(counters.publishing);
  live_counters::sub(counters.running);
}

}  // namespace junction::load
