#include "junction-load/rtmp_publisher.hpp"

#include "core/log.hpp"
#include "core/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace junction::load {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

namespace {
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
}

rtmp_publisher::rtmp_publisher(load_shard& shard, unsigned stream, std::unique_ptr<frame_source> source)
    : shard_{shard},
      stream_{stream},
      source_{std::move(source)},
      conn_{shard},
      wake_{shard.home().context(), clock::time_point::max()} {}

void rtmp_publisher::start() {
  asio::co_spawn(shard_.home().context(), run(), log_failure{"junction-load publisher"});
}

void rtmp_publisher::stop() {
  stopping_ = true;
  close();
}

void rtmp_publisher::close() {
  conn_.close();
  wake_.cancel();
}

asio::awaitable<void> rtmp_publisher::run() {
  auto& counters = shard_.counters();
  live_counters::add(counters.running);
  co_await (session() && conn_.watchdog());
  live_counters::sub(counters.running);
}

asio::awaitable<void> rtmp_publisher::session() {
  auto& counters = shard_.counters();
  const auto& plan = shard_.plan();
  const std::string& name = plan.streams[stream_];
  const std::function<void(rtmp::client_event&)> ignore = [](rtmp::client_event&) {};
  const auto give_up = [&](const std::string& why) {
    live_counters::add(counters.publishers_done);
    log::warn("publisher of '{}': {}", name, why);
    close();
  };

  auto setup = co_await conn_.open_stream(ignore);
  using failure = rtmp_connection::stream_setup::failure;
  if (setup.failed != failure::none) {
    live_counters::add(setup.failed == failure::connect     ? counters.connect_failures
                       : setup.failed == failure::handshake ? counters.handshake_failures
                                                            : counters.publish_failures);
    give_up(setup.why);
    co_return;
  }
  stream_id_ = setup.stream_id;
  const std::uint32_t sid = stream_id_;
  const std::function<bool(const rtmp::client_event&)> answer = [sid](const rtmp::client_event& e) {
    const auto* s = as_status(e);
    return s && s->stream_id == sid && (s->code == "NetStream.Publish.Start" || s->level == "error");
  };
  conn_.set_deadline(plan.options.step_timeout);
  conn_.protocol().publish(sid, name);
  auto started = co_await conn_.wait_for(answer, ignore);
  if (!started || as_status(*started)->level == "error") {
    live_counters::add(counters.publish_failures);
    give_up(started ? as_status(*started)->code + " " + as_status(*started)->description
                    : conn_.timed_out() ? "no answer to publish" : "closed before publishing");
    co_return;
  }
  conn_.clear_deadline();
  live_counters::add(counters.publishing);
  live_counters::add(counters.publishers_done);
  for (const auto& f : source_->header_frames()) send(f);
  co_await (read_loop() && write_loop());
  live_counters::sub(counters.publishing);
  if (!stopping_) log::warn("publisher of '{}' lost: {}", name, conn_.last_error().message());
}

void rtmp_publisher::send(const media::frame& f) {
  conn_.protocol().send_media(stream_id_, static_cast<rtmp::message_type>(f.track), f.timestamp, f.payload);
  if (f.is_audio() || f.is_video()) live_counters::add(shard_.counters().frames_sent);
}

// The server says little to a publisher (acknowledgements, pings, statuses); what the core
// answers goes out with the writer's next round, woken here.
asio::awaitable<void> rtmp_publisher::read_loop() {
  std::vector<rtmp::client_event> events;
  while (!conn_.closed()) {
    events.clear();
    if (auto ec = co_await conn_.read_events(events)) break;
    if (conn_.protocol().has_output()) wake_.cancel();
  }
  close();
}

asio::awaitable<void> rtmp_publisher::write_loop() {
  auto& counters = shard_.counters();
  const auto start = clock::now();
  std::vector<media::frame> due;
  auto& published = shard_.plan().published[stream_];
  while (!conn_.closed()) {
    const auto now = clock::now();
    due.clear();
    const auto next = source_->take_due(now - start, std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(), due);
    std::uint64_t audio = 0, video = 0;
    for (const auto& f : due) {
      send(f);
      if (f.config) continue;  // numbered frames only, as the sources number them
      if (f.is_audio()) ++audio;
      else if (f.is_video()) ++video;
    }
    // Everything due goes out in one write; a server that reads slowly makes this wait, and the
    // frames due meanwhile go out together in the next round (as an encoder's queue would).
    auto failed = co_await conn_.flush();
    live_counters::add(counters.bytes_sent, conn_.bytes_written() - counted_bytes_);
    counted_bytes_ = conn_.bytes_written();
    if (failed) break;
    // On the socket: players should now receive them (one writer: a plain load and store).
    published.audio.store(published.audio.load(std::memory_order_relaxed) + audio, std::memory_order_relaxed);
    published.video.store(published.video.load(std::memory_order_relaxed) + video, std::memory_order_relaxed);
    wake_.expires_at(start + next);
    co_await wake_.async_wait(no_throw);
  }
  close();
}

}  // namespace junction::load
