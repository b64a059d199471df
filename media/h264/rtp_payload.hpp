#pragma once
// H.264 over RTP (RFC 6184) to and from the frame model's FLV video tags.
//
// Packetizer: an FLV AVC frame's NAL units become RTP payloads, one access unit per timestamp
// with the marker on its last packet. packetization-mode 1 aggregates small NAL units into
// STAP-A packets and splits large ones into FU-A fragments to fit the MTU; mode 0 sends single
// NAL unit packets only (larger than the MTU if it must: that is what mode-0 receivers accept).
// Keyframes are preceded by the SPS and PPS of the last sequence header, so a receiver that
// joins late, or lost them, can start there. Sequence headers themselves produce no packets.
//
// Depacketizer: RTP payloads, in order (a jitter buffer's output), become FLV AVC frames:
// single NAL units, STAP-A and FU-A are accepted; SPS and PPS, in band or from SDP's
// sprop-parameter-sets, become a sequence header frame whenever they change; an access unit
// ends at the marker bit or when the timestamp moves on. After a lost packet the broken access
// unit is dropped, and so is everything up to the next IDR (a decoder could not use it);
// `wants_keyframe` then tells the caller to send a PLI or FIR. Pure.
#include <cstdint>
#include <vector>

#include "media/frame.hpp"
#include "media/h264/parameter_sets.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/receive_statistics.hpp"

namespace junction::media::h264 {

struct packetizer_settings {
  std::uint8_t payload_type = 96;
  std::uint32_t ssrc = 0;
  int packetization_mode = 1;
  std::size_t mtu = 1200;            // RTP payload bytes per packet (headers come on top)
  std::uint16_t first_sequence = 0;
  std::uint32_t first_timestamp = 0;
};

// One RTP payload of a frame, and whether its packet carries the marker (the frame's last).
struct rtp_payload {
  std::vector<std::uint8_t> bytes;
  bool marker = false;
};

class rtp_packetizer {
 public:
  explicit rtp_packetizer(packetizer_settings settings) : s_(settings), sequence_(settings.first_sequence) {}

  // Appends the RTP packets (whole datagrams, headers included) for one frame.
  void packetize(const frame& f, std::vector<std::vector<std::uint8_t>>& out);
  // Appends the frame's payloads only (a fan-out makes them once and each receiver adds its own
  // headers). A sequence header makes none but is kept for the keyframes that follow.
  void payloads(const frame& f, std::vector<rtp_payload>& out);
  const parameter_sets& sets() const noexcept { return sets_; }
  std::uint16_t next_sequence() const noexcept { return sequence_; }

 private:
  void send(std::vector<std::uint8_t>&& payload, std::uint32_t timestamp, bool marker,
            std::vector<std::vector<std::uint8_t>>& out);

  packetizer_settings s_;
  std::uint16_t sequence_;
  parameter_sets sets_;
};

struct depacketizer_counters {
  std::uint64_t packets = 0;
  std::uint64_t access_units = 0;
  std::uint64_t dropped_access_units = 0;  // broken by loss, or waiting for an IDR
  std::uint64_t malformed = 0;             // payloads that are not RFC 6184 (ignored)
};

class rtp_depacketizer {
 public:
  explicit rtp_depacketizer(std::size_t max_access_unit = 4 << 20) : max_access_unit_(max_access_unit) {}

  // Parameter sets known before any packet (sprop-parameter-sets): sent as the first frame.
  void set_parameter_sets(parameter_sets sets);
  // One packet, in sequence order; complete frames are appended to `out`.
  void push(const rtp::packet& p, std::vector<frame>& out);
  // The end of the stream: whatever access unit is pending comes out.
  void flush(std::vector<frame>& out);

  bool wants_keyframe() const noexcept { return waiting_for_idr_; }
  const depacketizer_counters& counters() const noexcept { return counters_; }

 private:
  void add_nal(bytes nal);
  void finish_access_unit(std::vector<frame>& out);
  void discard();

  std::size_t max_access_unit_;
  bool started_ = false;
  std::uint16_t expected_sequence_ = 0;
  bool have_unit_ = false;
  std::uint32_t unit_timestamp_ = 0;
  std::vector<nal_unit> unit_;       // NAL units of the access unit being assembled
  std::size_t unit_bytes_ = 0;
  nal_unit fragment_;                // an FU-A NAL unit being reassembled
  bool in_fragment_ = false;
  bool broken_ = false;              // the current access unit lost a packet
  bool waiting_for_idr_ = true;      // nothing decodable until an IDR
  parameter_sets sets_, sent_sets_;
  rtp::timestamp_mapper clock_{90000};
  depacketizer_counters counters_;
};

}  // namespace junction::media::h264
