#pragma once
// A jitter buffer for RTP: packets in arrival order, out in sequence order. A packet waits at
// most `delay` for those before it; when they do not come in time they count as lost and the
// buffer moves on (the depacketizer or decoder downstream hears of the gap through the sequence
// numbers). Late and duplicate packets are dropped and counted, and the buffer never holds more
// than `max_packets` (the oldest goes out early). Pure: the caller gives the time and asks when
// to come back.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace junction::media::rtp {

class jitter_buffer {
 public:
  struct settings {
    std::chrono::microseconds delay{60'000};
    std::size_t max_packets = 512;
  };
  struct entry {
    std::vector<std::uint8_t> datagram;
    std::uint16_t sequence = 0;
    std::int64_t arrival_us = 0;
  };
  struct counters {
    std::uint64_t received = 0, released = 0, lost = 0, late = 0, duplicates = 0, overflows = 0;
  };

  explicit jitter_buffer(settings s) : s_(s) {}

  void push(std::vector<std::uint8_t> datagram, std::uint16_t sequence, std::int64_t now_us);
  // Appends what may go now, in sequence order.
  void pop_ready(std::int64_t now_us, std::vector<entry>& out);
  // When pop_ready will next have something (the oldest packet's deadline), if anything waits.
  std::optional<std::int64_t> next_deadline() const;
  std::size_t size() const noexcept { return waiting_.size(); }
  const counters& stats() const noexcept { return counters_; }

 private:
  std::int64_t extend(std::uint16_t sequence) const noexcept;
  void release(std::map<std::int64_t, entry>::iterator it, std::vector<entry>& out);

  settings s_;
  bool started_ = false;
  std::int64_t next_ = 0;  // the extended sequence number due next
  std::map<std::int64_t, entry> waiting_;
  counters counters_;
};

}  // namespace junction::media::rtp
