#pragma once
// The bitrate a receiver tells its sender in REMB (draft-alvestrand-rmcat-remb-03) when the
// sender does not take transport-wide feedback (a browser without transport-cc, aiortc): the
// loss-based part of Google congestion control (draft-ietf-rmcat-gcc-02 §6), once a second.
// More than 10 % of the packets lost: the estimate falls by half the loss fraction; under 2 %:
// it rises 5 % (not past twice what arrived, so an idle sender is not promised the world);
// between: it stays. It starts at `max`: a browser starts low by itself and climbs to what the
// estimate allows, and a receiver that has seen no loss has no reason to hold it back. Sans-IO.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace junction::media::rtp {

class remb_estimator {
 public:
  struct settings {
    std::uint64_t min = 150'000;    // bits per second
    std::uint64_t max = 5'000'000;
  };
  remb_estimator() : remb_estimator(settings{}) {}
  explicit remb_estimator(settings s) : s_(s), estimate_(s.max) {}

  // What arrived since the last update over `elapsed`: bytes and packets received, and packets
  // found missing (gaps). Returns the new estimate.
  std::uint64_t update(std::uint64_t bytes, std::uint64_t packets, std::uint64_t missing,
                       std::chrono::milliseconds elapsed) {
    const std::uint64_t expected = packets + missing;
    if (expected == 0 || elapsed.count() <= 0) return estimate_;
    const double loss = static_cast<double>(missing) / static_cast<double>(expected);
    const auto received = static_cast<std::uint64_t>(static_cast<double>(bytes) * 8000.0 /
                                                     static_cast<double>(elapsed.count()));
    double next = static_cast<double>(estimate_);
    if (loss > 0.10)
      next = std::min(next, static_cast<double>(received)) * (1.0 - 0.5 * loss);
    else if (loss < 0.02)
      next = std::min(next * 1.05 + 1000.0, std::max(2.0 * static_cast<double>(received), next));
    estimate_ = std::clamp(static_cast<std::uint64_t>(next), s_.min, s_.max);
    return estimate_;
  }
  std::uint64_t estimate() const noexcept { return estimate_; }

 private:
  settings s_;
  std::uint64_t estimate_;
};

}  // namespace junction::media::rtp
