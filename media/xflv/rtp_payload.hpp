#pragma once
// The x-flv/90000 RTP payload of siprtmp (rtmplite), by which two Flash clients behind two
// gateways, or two Junction nodes, exchange RTMP media of any codec unchanged.
//
// A media message is assembled as type, body size and timestamp (three big-endian 32-bit
// numbers) followed by the body, and cut into chunks of at most 1,000 bytes. Each chunk is one
// RTP payload: the magic 'RTMP', a message sequence number (32 bits, one per message), the
// chunk number (16 bits, from 0) and, in chunk 0 only, the assembled message's size (16 bits),
// then the chunk's bytes. A receiver rebuilds a message when all its chunks have come, and
// drops a message with a missing chunk. The 16-bit size limits a message to 65,535 bytes
// assembled: larger frames cannot be carried (siprtmp's limit too) and are counted. Pure.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/frame.hpp"

namespace junction::media::xflv {

using bytes = std::span<const std::uint8_t>;
inline constexpr std::size_t max_chunk = 1000;
inline constexpr std::size_t max_assembled = 0xFFFF;

class packetizer {
 public:
  // The RTP payloads for one frame (audio, video or data), in order; none when the frame is too
  // big for the format.
  std::vector<std::vector<std::uint8_t>> packetize(const frame& f);
  std::uint64_t too_big() const noexcept { return too_big_; }

 private:
  std::uint32_t sequence_ = 0;
  std::uint64_t too_big_ = 0;
};

class depacketizer {
 public:
  // One RTP payload; a frame when it completes a message.
  std::optional<frame> push(bytes payload);
  std::uint64_t dropped() const noexcept { return dropped_; }   // messages with a chunk missing
  std::uint64_t malformed() const noexcept { return malformed_; }

 private:
  void drop_partial();

  bool assembling_ = false;
  std::uint32_t sequence_ = 0;
  std::uint16_t next_chunk_ = 0;
  std::size_t expected_ = 0;
  std::vector<std::uint8_t> message_;
  std::uint64_t dropped_ = 0, malformed_ = 0;
};

}  // namespace junction::media::xflv
