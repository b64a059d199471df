#pragma once
// VP8 over RTP (RFC 7741) to the frame model's FLV video bodies, and those bodies themselves.
//
// A VP8 frame in the frame model is an enhanced-RTMP video body: an extended header (frame type
// 1 for a keyframe, 2 otherwise; packet type 1, coded frames) and the FourCC 'vp08', then the
// frame as the encoder wrote it. Legacy FLV players cannot decode it; the transcoder makes H.264
// of it for them.
//
// Depacketizer: RTP payloads, in order (a jitter buffer's output), become whole frames. Each
// payload starts with a payload descriptor (X/N/S/PID and the optional PictureID, TL0PICIDX and
// TID/KEYIDX bytes); a frame starts at S=1 with partition 0 and ends at the marker, or when the
// timestamp moves on. A lost packet drops the frame it was in and everything up to the next
// keyframe (an inter frame refers to what was lost); `wants_keyframe` then tells the caller to
// send a PLI. Pure.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/frame.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/receive_statistics.hpp"

namespace junction::media::vp8 {

// The FLV body of one VP8 frame.
shared_buffer flv_body(bool keyframe, std::span<const std::uint8_t> data);
// The VP8 frame a body carries (empty when it is not a 'vp08' coded frame).
std::span<const std::uint8_t> frame_data(const frame& f);
// Whether a VP8 frame is a keyframe (RFC 6386 §9.1: the frame tag's inverse key frame bit).
inline bool is_keyframe(std::span<const std::uint8_t> data) { return !data.empty() && (data[0] & 0x01) == 0; }
// A keyframe's picture size (RFC 6386 §9.1: after the 3-byte frame tag, the start code 9d 01 2a
// and two 14-bit little-endian dimensions); nothing for an inter frame or a short one.
struct picture_size {
  unsigned width = 0, height = 0;
  friend bool operator==(const picture_size&, const picture_size&) = default;
};
std::optional<picture_size> keyframe_size(std::span<const std::uint8_t> data);

// RFC 7741 §4.2.
struct payload_descriptor {
  bool start = false;          // S: the first packet of a partition
  unsigned partition = 0;      // PID
  std::size_t size = 0;        // bytes before the VP8 payload
  std::optional<std::uint16_t> picture_id;  // 7 or 15 bits
};
// Nothing when the payload is shorter than the descriptor it announces, or has no data after it.
std::optional<payload_descriptor> read_descriptor(std::span<const std::uint8_t> payload);

struct depacketizer_counters {
  std::uint64_t packets = 0;
  std::uint64_t frames = 0;
  std::uint64_t dropped_frames = 0;  // broken by loss, or waiting for a keyframe
  std::uint64_t malformed = 0;       // payloads that are not RFC 7741 (ignored)
};

class rtp_depacketizer {
 public:
  explicit rtp_depacketizer(std::size_t max_frame = 4 << 20) : max_frame_(max_frame) {}

  // One packet, in sequence order; complete frames are appended to `out`.
  void push(const rtp::packet& p, std::vector<frame>& out);
  // The end of the stream: the frame pending comes out if it is whole.
  void flush(std::vector<frame>& out);

  bool wants_keyframe() const noexcept { return waiting_for_key_; }
  const depacketizer_counters& counters() const noexcept { return counters_; }

 private:
  void finish(std::vector<frame>& out);

  std::size_t max_frame_;
  bool started_ = false;
  std::uint16_t expected_sequence_ = 0;
  bool have_frame_ = false;
  bool broken_ = false;
  std::uint32_t frame_timestamp_ = 0;
  std::vector<std::uint8_t> data_;
  bool waiting_for_key_ = true;
  rtp::timestamp_mapper clock_{90000};
  depacketizer_counters counters_;
};

}  // namespace junction::media::vp8
