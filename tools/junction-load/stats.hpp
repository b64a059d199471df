#pragma once
// What players count, and the arithmetic that turns it into a report: gaps and reordering per
// track, latency histograms, percentiles. Pure: the event loops call in, tests call in.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace junction::load {

// One track of one player. Gaps are counted only after the first frame received, since a late
// joiner starts wherever the server's GOP cache starts (at a keyframe), not at sequence 0.
// Over TCP nothing should arrive twice or out of order: any sequence at or below the last one
// is counted as out of order (duplicates included), and does not move `last` back.
struct track_sequence {
  bool started = false;
  std::uint32_t first = 0;         // the first number received (a late joiner's start)
  std::uint32_t last = 0;
  std::uint64_t frames = 0;        // frames with a sequence number
  std::uint64_t missing = 0;       // numbers skipped between received frames
  std::uint64_t out_of_order = 0;  // at or below the last number received

  void on_frame(std::uint32_t sequence) noexcept;
  std::uint64_t received() const noexcept { return frames - out_of_order; }  // distinct, in order
};

// Frames of one track a player should have and does not: from its first frame to the last one
// the publisher sent (`published`: frames sent in all, numbered from 0), less what it received;
// a player that received nothing should have every frame published after its play request
// (`published_at_play` were sent before). Gaps, a stream that stopped reaching the player and a
// tail that never arrived all count.
std::uint64_t frames_short(const track_sequence& t, std::uint64_t published_at_play, std::uint64_t published) noexcept;

// Latencies (or any durations) in a fixed histogram: exact below 64 us, then 32 buckets per
// power of two (at most ~3% error), up to 2^40 us (12 days). 1,120 buckets, fixed memory: one
// per shard, shared by all its players, so recording costs no allocation and no lock.
class latency_histogram {
 public:
  void record_ns(std::int64_t ns) noexcept;
  void merge(const latency_histogram& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  double max_ms() const noexcept { return static_cast<double>(max_us_) / 1000; }
  // The value below which a fraction p (0..1) of the samples lie, in milliseconds: the middle
  // of the bucket holding the sample of rank ceil(p * count), capped at the exact maximum.
  // 0 with no samples.
  double percentile_ms(double p) const noexcept;

  static std::size_t bucket_of(std::uint64_t us) noexcept;
  static std::uint64_t bucket_low(std::size_t bucket) noexcept;  // smallest value in it, us

 private:
  static constexpr std::size_t exact = 64;
  static constexpr std::size_t per_octave = 32;
  static constexpr std::size_t octaves = 40 - 6;
  static constexpr std::size_t buckets = exact + octaves * per_octave;
  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_us_ = 0;
};

// Nearest-rank percentile of exact values (p in 0..1); 0 when empty. Sorts `values`.
double percentile(std::vector<double>& values, double p);

// Everything one player counted.
struct player_tally {
  std::uint64_t frames = 0;           // audio and video messages, sequence headers included
  std::uint64_t bytes = 0;            // bytes read from the socket
  track_sequence audio, video;
  std::uint64_t misrouted = 0;        // stamped for another stream than the one played
  std::uint64_t unidentified = 0;     // media frames neither stamped nor found in the index
  std::optional<double> first_keyframe_ms;  // from the TCP connect to the first video keyframe
  unsigned stream = 0;
  bool played = false;  // the server answered play with NetStream.Play.Start
  // Frames each track's publisher had sent when the play started (junction-load's own publisher).
  std::uint64_t audio_published_at_play = 0, video_published_at_play = 0;

  std::uint64_t missing() const noexcept { return audio.missing + video.missing; }
  std::uint64_t out_of_order() const noexcept { return audio.out_of_order + video.out_of_order; }
};

// min / avg / max of a count over players.
struct spread {
  std::uint64_t min = 0;
  double avg = 0;
  std::uint64_t max = 0;
};
spread spread_of(const std::vector<std::uint64_t>& values);

}  // namespace junction::load
