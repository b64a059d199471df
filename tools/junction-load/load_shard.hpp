#pragma once
// One event-loop thread's share of a run: its publishers and players, its latency histogram
// and its live counters. Everything here is touched only on that
// shard's thread, except the counters, which the controller reads for the progress line.
#include "junction-load/flv_file_source.hpp"
#include "junction-load/frame_index.hpp"
#include "junction-load/options.hpp"
#include "junction-load/stats.hpp"

#include "core/shard.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace junction::load {

class rtmp_player;
class stream_publisher;
class whep_player;
class janus_player;

// Frames one stream's publisher got onto its socket, per track (written by the publisher's shard
// after each successful write, read by players and the controller): the last frame a player
// should receive is number published - 1.
struct published_frames {
  std::atomic<std::uint64_t> audio{0}, video{0};
};

// What every shard reads and nobody changes once the run starts (but the published counts).
struct run_plan {
  load_options options;
  boost::asio::ip::tcp::endpoint server;
  std::vector<std::string> streams;               // one name per publisher (or the one to play)
  std::shared_ptr<const flv_file> file;           // --source FILE, else null
  std::vector<std::unique_ptr<frame_index>> indexes;  // per stream, with a file source
  std::unique_ptr<published_frames[]> published;      // per stream, with publishers
};

// Written by one shard (a plain load and store, no locked instruction), read by the
// controller's thread with relaxed loads: each number is exact, the set is not a snapshot.
struct alignas(64) live_counters {
  std::atomic<std::uint64_t> frames_sent{0}, bytes_sent{0};
  std::atomic<std::uint64_t> frames_received{0}, bytes_received{0};
  std::atomic<std::uint64_t> publishing{0}, playing{0};  // right now
  std::atomic<std::uint64_t> publishers_done{0};         // set up or failed, for the start
  std::atomic<std::uint64_t> running{0};                 // sessions whose coroutine has not ended
  std::atomic<std::uint64_t> connect_failures{0}, handshake_failures{0};
  std::atomic<std::uint64_t> publish_failures{0}, play_failures{0};

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void sub(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  static std::uint64_t get(const std::atomic<std::uint64_t>& c) noexcept {
    return c.load(std::memory_order_relaxed);
  }
};

// What a shard hands back at the end.
struct shard_result {
  std::vector<player_tally> completed;  // players that played until the end
  std::uint64_t players_started = 0, players_disconnected = 0;
  std::uint64_t misrouted = 0, unidentified = 0;
  latency_histogram latency;
  std::vector<double> first_keyframe_ms;  // of every player that saw one
};

class load_shard {
 public:
  load_shard(shard& home, const run_plan& plan);
  ~load_shard();
  load_shard(const load_shard&) = delete;
  load_shard& operator=(const load_shard&) = delete;

  shard& home() noexcept { return home_; }
  const run_plan& plan() const noexcept { return plan_; }
  live_counters& counters() noexcept { return counters_; }
  const live_counters& counters() const noexcept { return counters_; }
  latency_histogram& latency() noexcept { return latency_; }

  // On this shard's thread only.
  void start_publisher(unsigned stream);
  void start_player(unsigned stream);
  void stop_publishers();
  // True once this shard was told to stop its publishers: a player the server closes after that
  // saw its stream end, which is a completed run, not a lost player.
  bool ending() const noexcept { return ending_; }
  void stop_players();
  // Players still playing that have not yet received the last frame published on each track.
  std::uint64_t players_behind() const;
  shard_result collect() const;

 private:
  shard& home_;
  const run_plan& plan_;
  live_counters counters_;
  latency_histogram latency_;
  std::vector<std::unique_ptr<stream_publisher>> publishers_;
  std::vector<std::unique_ptr<rtmp_player>> players_;
  std::vector<std::unique_ptr<whep_player>> whep_players_;
  std::vector<std::unique_ptr<janus_player>> janus_players_;
  bool ending_ = false;
};

}  // namespace junction::load
