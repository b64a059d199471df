#include "junction-load/rtmp_player.hpp"

#include "junction-load/player_frames.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace junction::load {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

rtmp_player::rtmp_player(load_shard& shard, unsigned stream)
    : shard_{shard}, stream_{stream}, conn_{shard} {
  tally_.stream = stream;
}

bool rtmp_player::caught_up() const noexcept {
  const auto& plan = shard_.plan();
  if (!playing_ || !plan.published) return true;
  const auto& published = plan.published[stream_];
  const auto has = [](const track_sequence& t, std::uint64_t at_play, std::uint64_t sent) {
    return sent == 0 || (t.started ? std::uint64_t{t.last} + 1 >= sent : sent <= at_play);
  };
  return has(tally_.audio, tally_.audio_published_at_play, published.audio.load(std::memory_order_relaxed)) &&
         has(tally_.video, tally_.video_published_at_play, published.video.load(std::memory_order_relaxed));
}

void rtmp_player::start() {
  asio::co_spawn(shard_.home().context(), run(), log_failure{"junction-load player"});
}

void rtmp_player::stop() {
  stopping_ = true;
  conn_.close();
}

asio::awaitable<void> rtmp_player::run() {
  auto& counters = shard_.counters();
  live_counters::add(counters.running);
  co_await (session() && conn_.watchdog());
  live_counters::sub(counters.running);
}

void rtmp_player::count_read() {
  const auto n = conn_.bytes_read() - counted_bytes_;
  counted_bytes_ = conn_.bytes_read();
  tally_.bytes += n;
  live_counters::add(shard_.counters().bytes_received, n);
}

asio::awaitable<void> rtmp_player::session() {
  auto& counters = shard_.counters();
  const auto& plan = shard_.plan();
  const std::string& name = plan.streams[stream_];
  const std::function<void(rtmp::client_event&)> others = [this](rtmp::client_event& e) { on_event(e); };

  auto setup = co_await conn_.open_stream(others);
  count_read();
  using failure = rtmp_connection::stream_setup::failure;
  if (setup.failed != failure::none) {
    outcome_ = outcome::failed;
    if (!stopping_) {
      live_counters::add(setup.failed == failure::connect     ? counters.connect_failures
                         : setup.failed == failure::handshake ? counters.handshake_failures
                                                              : counters.play_failures);
      log::debug("player of '{}': {}", name, setup.why);
    }
    conn_.close();
    co_return;
  }

  // play, answered by onStatus NetStream.Play.Start (Junction and FMS send Play.Reset first), or
  // by an error status.
  const std::uint32_t sid = setup.stream_id;
  const std::function<bool(const rtmp::client_event&)> answer = [sid](const rtmp::client_event& e) {
    const auto* s = as_status(e);
    return s && s->stream_id == sid && (s->code == "NetStream.Play.Start" || s->level == "error");
  };
  conn_.set_deadline(plan.options.step_timeout);
  play_sent_ns_ = steady_ns(std::chrono::steady_clock::now());
  conn_.protocol().play(sid, name);
  auto started = co_await conn_.wait_for(answer, others);
  count_read();
  if (!started || as_status(*started)->level == "error") {
    outcome_ = outcome::failed;
    if (!stopping_) {
      live_counters::add(counters.play_failures);
      log::debug("player of '{}': {}", name, started ? as_status(*started)->code : "no answer to play");
    }
    conn_.close();
    co_return;
  }

  conn_.clear_deadline();
  tally_.played = true;
  if (plan.published) {
    tally_.audio_published_at_play = plan.published[stream_].audio.load(std::memory_order_relaxed);
    tally_.video_published_at_play = plan.published[stream_].video.load(std::memory_order_relaxed);
  }
  playing_ = true;
  live_counters::add(counters.playing);
  std::vector<rtmp::client_event> events;
  for (;;) {
    events.clear();
    auto ec = co_await conn_.read_events(events);
    count_read();
    if (ec) break;
    for (auto& e : events) on_event(e);
    if (conn_.protocol().has_output()) {  // acknowledgements, pongs
      if (auto failed = co_await conn_.flush()) break;
    }
  }
  playing_ = false;
  live_counters::sub(counters.playing);
  const bool ended_normally = stopping_ || shard_.ending();
  outcome_ = ended_normally ? outcome::completed : outcome::disconnected;
  if (!ended_normally) log::info("player of '{}' lost: {}", name, conn_.last_error().message());
  conn_.close();
}

void rtmp_player::on_event(rtmp::client_event& e) {
  if (auto* media = std::get_if<rtmp::incoming_media>(&e)) on_media(media->m);
  // Statuses while playing (UnpublishNotify when the publishers stop) need nothing.
}

void rtmp_player::on_media(const rtmp::message& m) {
  if (m.kind() != rtmp::message_type::audio && m.kind() != rtmp::message_type::video) return;
  count_frame(shard_, tally_, stream_, media::make_frame(static_cast<media::track>(m.type), m.timestamp, m.payload),
              conn_.connect_started(), play_sent_ns_);
}

}  // namespace junction::load
