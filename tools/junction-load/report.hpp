#pragma once
// The result of a run, as a table for people and as JSON for scripts (the key names are an
// interface: bench scripts read them). Both show the same numbers.
#include "junction-load/stats.hpp"

#include <cstdint>
#include <string>

namespace junction::load {

struct percentiles {
  double p50 = 0, p99 = 0, max = 0;  // milliseconds; 0 without samples
};

struct load_report {
  std::string url;
  double duration_s = 0;  // publishers' start to their stop, as measured
  unsigned publishers = 0;
  unsigned players_per_stream = 0;
  std::uint64_t players_started = 0;    // TCP connects attempted
  std::uint64_t players_completed = 0;  // played until the tool closed them at the end
  std::uint64_t connect_failures = 0;   // publishers' and players' TCP connects
  std::uint64_t handshake_failures = 0;
  std::uint64_t publish_failures = 0;   // connect, createStream or publish refused or unanswered
  std::uint64_t play_failures = 0;      // the same for players
  std::uint64_t frames_sent = 0;        // audio, video and data messages, all publishers
  std::uint64_t bytes_sent = 0;         // written to the sockets
  std::uint64_t frames_received_total = 0;  // audio and video messages, all players
  std::uint64_t bytes_received_total = 0;   // read from the sockets
  spread frames_received_per_player;        // over the players that completed
  std::uint64_t missing_frames = 0;
  std::uint64_t out_of_order_frames = 0;
  std::uint64_t players_with_missing_frames = 0;
  percentiles first_keyframe_ms;  // TCP connect to the first video keyframe, per player
  percentiles latency_ms;         // publisher's send to player's receive, per frame
  double delivered_mbps = 0;      // bytes_received_total over the players' active time
  double tool_cpu_seconds = 0;    // user + system, the whole process
  double tool_cpu_percent = 0;    // of one CPU, over the wall time of the run
  // Beyond the keys above (additions only; scripts may ignore them).
  std::uint64_t players_disconnected = 0;  // closed by the server (or failed) while playing
  std::uint64_t misrouted_frames = 0;      // stamped for another stream than the one played
  std::uint64_t unidentified_frames = 0;   // neither stamped nor in the file's frame index
  unsigned shards = 0;
  // Exact accounting (with junction-load's own publishers): per player and track, the frames from
  // its first one to the publisher's last, against those received.
  bool frames_accounted = false;
  std::uint64_t short_frames = 0;         // over every player that completed
  std::uint64_t players_short = 0;
  spread joined_at_video_frame;           // the video frame each player started at (GOP cache)
};

std::string to_json(const load_report& r);
std::string to_table(const load_report& r);

}  // namespace junction::load
