#pragma once
// What a player does with each audio or video frame it receives, whatever carried it (RTMP,
// WebRTC): counts it, notes the first keyframe, finds its place in its track by its stamp (or
// the file's index) and records its latency.
#include <chrono>
#include <cstdint>

#include "junction-load/load_shard.hpp"
#include "media/frame.hpp"

namespace junction::load {

// `connected`: when the player began (TCP connect, or the WHEP request); `play_sent_ns`: when
// it asked to play (frames sent before came from a cache: no latency is recorded for them).
void count_frame(load_shard& shard, player_tally& tally, unsigned stream, const media::frame& f,
                 std::chrono::steady_clock::time_point connected, std::int64_t play_sent_ns);

inline std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace junction::load
