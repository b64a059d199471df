#pragma once
// One player: connects, plays its stream and counts what arrives (frames, bytes, gaps per
// track, latency, the first keyframe) until the run closes it. A player lives on one shard.
#include "junction-load/load_shard.hpp"
#include "junction-load/rtmp_connection.hpp"

#include <boost/asio/awaitable.hpp>

namespace junction::load {

class rtmp_player {
 public:
  enum class outcome { running, completed, failed, disconnected };

  rtmp_player(load_shard& shard, unsigned stream);
  // Spawns the session on the shard (call on the shard's thread).
  void start();
  // The run is over: close. A player still playing counts as completed (so does one the server
  // closed after the publishers stopped).
  void stop();

  outcome result() const noexcept { return outcome_; }
  // Not playing, or has every frame its publisher sent so far (on the shard's thread).
  bool caught_up() const noexcept;
  const player_tally& tally() const noexcept { return tally_; }

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> session();
  void on_event(rtmp::client_event& e);
  void on_media(const rtmp::message& m);
  void count_read();

  load_shard& shard_;
  unsigned stream_;
  rtmp_connection conn_;
  player_tally tally_;
  outcome outcome_ = outcome::running;
  std::int64_t play_sent_ns_ = 0;  // frames sent before this came from a cache: no latency
  std::uint64_t counted_bytes_ = 0;
  bool playing_ = false, stopping_ = false;
};

}  // namespace junction::load
