#pragma once
// What a receiver asks its sender to send again (RFC 4585 §6.2.1, generic NACK): the gaps in one
// stream's sequence numbers as they appear, asked for at once, again after `retry` while still
// missing, at most `max_tries` times; a packet further than `max_missing` behind the newest, or
// asked for `max_tries` times, is given up (the depacketizer hears of the loss and asks for a
// keyframe). Duplicates and retransmissions that come late do no harm. Pure: sequence numbers and
// times in, the numbers to ask for out.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace junction::media::rtp {

class nack_tracker {
 public:
  using clock = std::chrono::steady_clock;
  struct options {
    std::chrono::milliseconds retry{100};
    int max_tries = 3;
    std::size_t max_missing = 512;
  };
  struct counters {
    std::uint64_t missing = 0;    // gaps seen
    std::uint64_t recovered = 0;  // of them, came after all
    std::uint64_t given_up = 0;
  };

  nack_tracker() : nack_tracker(options{}) {}
  explicit nack_tracker(options o) : o_(o) {}

  // A packet of the stream arrived (first sending or retransmission).
  void on_packet(std::uint16_t sequence, clock::time_point now);
  // The sequence numbers to ask for now: new gaps, and those whose retry is due.
  std::vector<std::uint16_t> due(clock::time_point now);

  const counters& stats() const noexcept { return stats_; }

 private:
  struct missing {
    clock::time_point asked{};
    int tries = 0;
  };
  options o_;
  std::optional<std::int64_t> highest_;
  std::map<std::int64_t, missing> missing_;  // unwrapped sequence -> state
  counters stats_;
};

}  // namespace junction::media::rtp
