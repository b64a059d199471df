#pragma once
// The congestion-control feedback browsers send and read, so that a sender's bitrate follows the
// path: REMB (draft-alvestrand-rmcat-remb-03: a payload-specific feedback packet of format 15
// whose FCI starts "REMB", the receiver's estimate of the bitrate it can take) and transport-wide
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: a transport feedback packet
// of format 15 telling, for each packet by its transport-wide sequence number, whether it came
// and when). Readers take the FCI (what follows the 12-byte feedback header) and refuse what
// runs past it; writers append one whole RTCP packet.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace junction::media::rtp {

struct remb {
  std::uint32_t sender_ssrc = 0;
  std::uint64_t bitrate = 0;  // bits per second
  std::vector<std::uint32_t> ssrcs;
  friend bool operator==(const remb&, const remb&) = default;
};

struct transport_feedback {
  // The time unit of arrival deltas: 250 µs.
  static constexpr std::int64_t delta_unit_us = 250;
  static constexpr std::size_t max_packets = 1 << 14;

  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::uint16_t base_sequence = 0;
  std::int32_t reference_time = 0;  // in 64 ms units (24 bits, signed)
  std::uint8_t feedback_count = 0;  // counts this sender's feedback packets
  struct status {
    bool received = false;
    // For a received packet: its arrival in delta_unit_us after the previous received one (the
    // first: after reference_time). Fits 16 bits, signed.
    std::int16_t delta = 0;
    friend bool operator==(const status&, const status&) = default;
  };
  std::vector<status> packets;  // from base_sequence on
  friend bool operator==(const transport_feedback&, const transport_feedback&) = default;
};

std::optional<remb> read_remb(std::uint32_t sender_ssrc, std::span<const std::uint8_t> fci);
std::optional<transport_feedback> read_transport_feedback(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                                          std::span<const std::uint8_t> fci);

void write_remb(const remb& r, std::vector<std::uint8_t>& out);
// Run-length chunks for runs of seven or more alike, two-bit status vectors otherwise.
void write_transport_feedback(const transport_feedback& f, std::vector<std::uint8_t>& out);

}  // namespace junction::media::rtp
