#include "junction-load/webrtc_viewer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "junction-load/player_frames.hpp"

namespace junction::load {

webrtc_viewer::webrtc_viewer(load_shard& shard, unsigned stream)
    : shard_{shard}, stream_{stream}, socket_{shard.home().context()}, timer_{shard.home().context()} {
  tally_.stream = stream;
}

webrtc_viewer::~webrtc_viewer() = default;

bool webrtc_viewer::caught_up() const noexcept {
  const auto& plan = shard_.plan();
  if (!playing_ || !plan.published) return true;
  const auto sent = plan.published[stream_].video.load(std::memory_order_relaxed);
  return sent == 0 || (tally_.video.started ? std::uint64_t{tally_.video.last} + 1 >= sent
                                            : sent <= tally_.video_published_at_play);
}

void webrtc_viewer::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
}

void webrtc_viewer::asked_to_play() {
  play_sent_ns_ = steady_ns(std::chrono::steady_clock::now());
  const auto& plan = shard_.plan();
  if (plan.published) tally_.video_published_at_play = plan.published[stream_].video.load(std::memory_order_relaxed);
}

void webrtc_viewer::now_playing() {
  if (playing_) return;
  tally_.played = true;
  playing_ = true;
  live_counters::add(shard_.counters().playing);
}

void webrtc_viewer::count_frames() {
  for (const auto& f : frames_) count_frame(shard_, tally_, stream_, f, started_, play_sent_ns_);
}

void webrtc_viewer::finished(const std::string& what, const std::string& failure) {
  auto& counters = shard_.counters();
  if (playing_) live_counters::sub(counters.playing);
  playing_ = false;
  const bool ended_normally = stopping_ || shard_.ending();
  outcome_ = !tally_.played ? outcome::failed : ended_normally ? outcome::completed : outcome::disconnected;
  if (!tally_.played && !stopping_) live_counters::add(counters.handshake_failures);
  if (!ended_normally) log::info("{} lost: {}", what, failure);
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
}

void webrtc_viewer::start_ticks() {
  ticking_ = true;
  boost::asio::co_spawn(shard_.home().context(), ticks(), boost::asio::detached);
}

boost::asio::awaitable<void> webrtc_viewer::ticks() {
  while (!stopping_ && socket_.is_open()) {
    timer_.expires_at(next_tick());
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (stopping_ || !socket_.is_open()) break;
    on_tick();
  }
  ticking_ = false;
}

boost::asio::awaitable<void> webrtc_viewer::ticks_ended() {
  boost::asio::steady_timer pause{shard_.home().context()};
  while (ticking_) {
    pause.expires_after(std::chrono::milliseconds(1));
    co_await pause.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace junction::load
