#pragma once
// What a receiver learns about one RTP source (RFC 3550 appendix A): the extended sequence
// number with wrap-around and the probation of a new source (A.1), packets expected and lost,
// the fraction lost since the last report (A.3), and interarrival jitter (A.8). Its report
// block is what Junction's receiver reports carry. Pure: arrival times are handed in.
#include <cstdint>

#include "media/rtp/rtcp.hpp"

namespace junction::media::rtp {

class receive_statistics {
 public:
  // The source's clock rate: jitter is kept in its timestamp units.
  explicit receive_statistics(std::uint32_t clock_rate) noexcept : clock_rate_(clock_rate) {}

  // A packet arrived `arrival_us` microseconds into any fixed timeline. False when it should
  // not be used: the source is still on probation, or the sequence jumped far (a restarted
  // sender is accepted once two packets in a row confirm the new numbering).
  bool on_packet(std::uint16_t sequence, std::uint32_t timestamp, std::int64_t arrival_us) noexcept;

  // A report block for this source; the "since last report" counters start again.
  report_block report(std::uint32_t ssrc, std::uint32_t last_sr = 0, std::uint32_t delay_since_last_sr = 0) noexcept;

  std::uint64_t extended_highest() const noexcept { return cycles_ + max_seq_; }
  std::uint64_t received() const noexcept { return received_; }
  std::int64_t lost() const noexcept;
  double jitter_units() const noexcept { return jitter_; }  // in timestamp units
  bool valid() const noexcept { return probation_ == 0; }

 private:
  void restart(std::uint16_t sequence) noexcept;

  std::uint32_t clock_rate_;
  bool started_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint64_t cycles_ = 0;         // count of wraps, times 2^16
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = 0x10000;  // "impossible": no jump waiting to be confirmed
  int probation_ = 2;                // packets in sequence needed before a source is valid
  std::uint64_t received_ = 0;
  std::uint64_t expected_prior_ = 0, received_prior_ = 0;
  double jitter_ = 0;
  bool have_transit_ = false;
  std::int64_t transit_ = 0;
};

// 32-bit RTP timestamps made monotonic 64-bit ones, and mapped to the milliseconds of the frame
// model (RTMP's timeline), starting at 0 for the first packet.
class timestamp_mapper {
 public:
  explicit timestamp_mapper(std::uint32_t clock_rate) noexcept : clock_rate_(clock_rate) {}
  std::int64_t unwrap(std::uint32_t timestamp) noexcept;
  std::uint32_t to_milliseconds(std::uint32_t timestamp) noexcept;
  // The other way: milliseconds on the frame timeline to RTP units, from `base`.
  static std::uint32_t to_rtp(std::uint32_t milliseconds, std::uint32_t clock_rate, std::uint32_t base) noexcept {
    return base + static_cast<std::uint32_t>(std::uint64_t{milliseconds} * clock_rate / 1000);
  }

 private:
  std::uint32_t clock_rate_;
  bool started_ = false;
  std::uint32_t last_ = 0;
  std::int64_t extended_ = 0;
  std::int64_t first_ = 0;
};

}  // namespace junction::media::rtp
