#pragma once
// The receiving side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
// extensions-01): it notes when each packet of a transport arrived, by the transport-wide
// sequence number the sender put in a header extension, and builds the feedback that tells the
// sender (a browser's send-side estimator) which packets came and when. The owner sends one
// every 50-100 ms. Pure: sequence numbers and times in, feedback out.
#include <cstdint>
#include <map>
#include <optional>

#include "media/rtp/congestion_feedback.hpp"

namespace junction::media::rtp {

class transport_cc_receiver {
 public:
  // A packet with transport-wide sequence number `sequence` arrived at `arrival_us` (any
  // monotonic clock, in microseconds).
  void on_packet(std::uint16_t sequence, std::int64_t arrival_us);
  // The feedback for what arrived since the last one (packets between that did not come are
  // reported missing); nothing when nothing arrived.
  std::optional<transport_feedback> take(std::uint32_t sender_ssrc, std::uint32_t media_ssrc);

 private:
  std::map<std::int64_t, std::int64_t> arrivals_;  // unwrapped sequence -> arrival
  std::optional<std::int64_t> last_;               // the last sequence number seen, unwrapped
  std::optional<std::int64_t> next_;               // the first one no feedback told of yet
  std::uint8_t count_ = 0;
};

}  // namespace junction::media::rtp
