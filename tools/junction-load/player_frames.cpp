#include "junction-load/player_frames.hpp"

#include "junction-load/frame_stamp.hpp"

namespace junction::load {

void count_frame(load_shard& shard, player_tally& tally, unsigned stream, const media::frame& f,
                 std::chrono::steady_clock::time_point connected, std::int64_t play_sent_ns) {
  ++tally.frames;
  live_counters::add(shard.counters().frames_received);
  const auto now = std::chrono::steady_clock::now();
  const auto now_ns = steady_ns(now);
  if (f.is_video() && f.keyframe && !f.config && !tally.first_keyframe_ms)
    tally.first_keyframe_ms = std::chrono::duration<double, std::milli>(now - connected).count();
  if (f.config) return;

  auto& sequence = f.is_audio() ? tally.audio : tally.video;
  const auto& plan = shard.plan();
  std::optional<std::uint32_t> index;
  std::int64_t sent_ns = 0;
  if (auto stamp = read_stamp(f.track, f.payload.bytes())) {
    // Playing an existing stream (--publishers 0), any junction-load's stamps will do.
    if (plan.options.publishers > 0 && stamp->stream != stream) {
      ++tally.misrouted;
      return;
    }
    index = stamp->sequence;
    sent_ns = stamp->sent_ns;
  } else if (stream < plan.indexes.size() && plan.indexes[stream]) {
    const auto after = sequence.started ? std::optional{sequence.last} : std::nullopt;
    if (auto e = plan.indexes[stream]->find(f.track, f.timestamp, after)) {
      index = e->index;
      sent_ns = e->sent_ns;
    }
  }
  if (!index) {
    ++tally.unidentified;
    return;
  }
  sequence.on_frame(*index);
  // Frames sent before the play request were replayed from the server's GOP cache: their age
  // says how long the cache is, not how fast the server relays.
  if (sent_ns >= play_sent_ns) shard.latency().record_ns(now_ns - sent_ns);
}

}  // namespace junction::load
