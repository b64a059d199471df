#include "media/rtp/receive_statistics.hpp"

#include <algorithm>
#include <cmath>

namespace junction::media::rtp {
namespace {

// RFC 3550 A.1's constants.
constexpr std::uint16_t max_dropout = 3000;
constexpr std::uint16_t max_misorder = 100;
constexpr int min_sequential = 2;

}  // namespace

void receive_statistics::restart(std::uint16_t sequence) noexcept {
  base_seq_ = sequence;
  max_seq_ = sequence;
  bad_seq_ = 0x10000;
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

bool receive_statistics::on_packet(std::uint16_t seq, std::uint32_t timestamp, std::int64_t arrival_us) noexcept {
  if (!started_) {
    started_ = true;
    restart(seq);
    max_seq_ = static_cast<std::uint16_t>(seq - 1);
    probation_ = min_sequential;
  }
  const auto udelta = static_cast<std::uint16_t>(seq - max_seq_);
  bool use = true;
  if (probation_) {
    // Packets must come in sequence before the source counts.
    if (seq == static_cast<std::uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        restart(seq);
        ++received_;
      } else {
        use = false;
      }
    } else {
      probation_ = min_sequential - 1;
      max_seq_ = seq;
      use = false;
    }
  } else if (udelta < max_dropout) {
    if (seq < max_seq_) cycles_ += 0x10000;  // wrapped
    max_seq_ = seq;
    ++received_;
  } else if (udelta <= 0x10000 - max_misorder) {
    // A big jump: a restarted sender if the next packet follows it, else a stray.
    if (seq == bad_seq_) {
      restart(seq);
      ++received_;
    } else {
      bad_seq_ = (std::uint32_t{seq} + 1) & 0xFFFF;
      use = false;
    }
  } else {
    ++received_;  // duplicate or reordered: counted, not a new maximum
  }
  if (!use) return false;

  // A.8: jitter from the difference in relative transit times, in timestamp units.
  const std::int64_t arrival_units = arrival_us * clock_rate_ / 1'000'000;
  const std::int64_t transit = arrival_units - static_cast<std::int64_t>(timestamp);
  if (have_transit_) {
    std::int64_t d = transit - transit_;
    // Timestamps are 32-bit: a difference past half the range is a wrap, not a jump.
    d = static_cast<std::int32_t>(static_cast<std::uint32_t>(d));
    jitter_ += (std::abs(static_cast<double>(d)) - jitter_) / 16.0;
  }
  transit_ = transit;
  have_transit_ = true;
  return true;
}

std::int64_t receive_statistics::lost() const noexcept {
  if (!started_ || probation_) return 0;
  const std::int64_t expected = static_cast<std::int64_t>(extended_highest()) - base_seq_ + 1;
  return expected - static_cast<std::int64_t>(received_);
}

report_block receive_statistics::report(std::uint32_t ssrc, std::uint32_t last_sr,
                                        std::uint32_t delay_since_last_sr) noexcept {
  report_block b;
  b.ssrc = ssrc;
  b.last_sr = last_sr;
  b.delay_since_last_sr = delay_since_last_sr;
  if (!started_ || probation_) return b;
  const std::uint64_t expected = extended_highest() - base_seq_ + 1;
  b.cumulative_lost = static_cast<std::int32_t>(std::clamp<std::int64_t>(lost(), -0x800000, 0x7FFFFF));
  b.highest_sequence = static_cast<std::uint32_t>(extended_highest());
  b.jitter = static_cast<std::uint32_t>(jitter_);
  // A.3: the fraction lost in this interval, clamped at 0 when duplicates outnumber losses.
  const std::int64_t expected_interval = static_cast<std::int64_t>(expected - expected_prior_);
  const std::int64_t received_interval = static_cast<std::int64_t>(received_ - received_prior_);
  expected_prior_ = expected;
  received_prior_ = received_;
  const std::int64_t lost_interval = expected_interval - received_interval;
  b.fraction_lost = expected_interval == 0 || lost_interval <= 0
                        ? 0
                        : static_cast<std::uint8_t>(std::min<std::int64_t>((lost_interval << 8) / expected_interval, 255));
  return b;
}

std::int64_t timestamp_mapper::unwrap(std::uint32_t timestamp) noexcept {
  if (!started_) {
    started_ = true;
    last_ = timestamp;
    extended_ = timestamp;
    first_ = extended_;
    return extended_;
  }
  // The signed distance from the last one: forwards or (reordered) backwards, across wraps.
  extended_ += static_cast<std::int32_t>(timestamp - last_);
  last_ = timestamp;
  return extended_;
}

std::uint32_t timestamp_mapper::to_milliseconds(std::uint32_t timestamp) noexcept {
  std::int64_t units = unwrap(timestamp) - first_;
  if (units < 0) units = 0;  // reordered before the first packet
  return static_cast<std::uint32_t>(units * 1000 / clock_rate_);
}

}  // namespace junction::media::rtp
