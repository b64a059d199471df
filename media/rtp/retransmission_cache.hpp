#pragma once
// What a sender keeps to answer NACKs (RFC 4585 §6.2.1): the packets of one stream it sent last,
// by sequence number, for a bounded count and age. A NACKed packet still kept goes out again:
// as an RTX packet (RFC 4588 §4: the RTX payload type and SSRC, a sequence number of the RTX
// stream's own, the original sequence number before the original payload) when the peer agreed
// to RTX, else as itself. Each packet is resent at most once per `min_interval`, so that a burst
// of NACKs for the same loss does not become a burst of copies. Pure: clear RTP in (before
// SRTP), packets to protect and send out.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/shared_buffer.hpp"
#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

class retransmission_cache {
 public:
  using clock = std::chrono::steady_clock;

  struct options {
    std::size_t capacity = 1024;  // packets kept (a second of 1080p video is a few hundred)
    std::chrono::milliseconds max_age{1000};
    std::chrono::milliseconds min_interval{100};
    std::optional<std::uint8_t> rtx_payload_type = std::nullopt;  // nothing: resend the packet as it was
    std::uint32_t rtx_ssrc = 0;
  };
  struct counters {
    std::uint64_t resent = 0;      // packets sent again
    std::uint64_t missing = 0;     // asked for, but gone (too old, pushed out, never sent)
    std::uint64_t suppressed = 0;  // asked for again within min_interval
  };

  explicit retransmission_cache(options o);

  // A packet as it is sent: its header and its payload, the payload shared (a fan-out's
  // receivers are sent the same payload bytes, kept once for all). Header extensions and CSRCs
  // are not kept: a retransmission carries none.
  void store(const header& h, shared_buffer payload, clock::time_point now);
  // A whole packet as it is sent (clear RTP; its payload copied). One that does not parse is
  // not kept.
  void store(std::span<const std::uint8_t> packet, clock::time_point now);
  // The packets that answer a NACK for `lost`, in its order.
  std::vector<std::vector<std::uint8_t>> answer(std::span<const std::uint16_t> lost, clock::time_point now);

  const counters& stats() const noexcept { return stats_; }

 private:
  struct slot {
    shared_buffer payload;
    std::uint32_t timestamp = 0, ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint8_t payload_type = 0;
    bool marker = false, used = false;
    clock::time_point sent{}, resent{};
  };
  options options_;
  std::vector<slot> slots_;
  std::uint16_t rtx_sequence_ = 0;
  counters stats_;
};

}  // namespace junction::media::rtp
