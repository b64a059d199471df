#pragma once
// Protocol control messages (RTMP spec 1.0 section 5.4) and User Control messages (section 6.2,
// event payloads in 7.1.7): builders returning a message ready for a chunk_writer, and parsers
// for what a peer sends. All integers are big-endian. Builders put protocol control messages on
// chunk stream 2 and message stream 0, as section 5.4 requires.
#include "rtmp/message.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace junction::rtmp {

// Set Peer Bandwidth limit types (section 5.4.5).
namespace peer_bandwidth_limit {
inline constexpr std::uint8_t hard = 0;
inline constexpr std::uint8_t soft = 1;
inline constexpr std::uint8_t dynamic = 2;
}  // namespace peer_bandwidth_limit

// Builders. Each payload is one small fresh shared_buffer; timestamp 0.
message set_chunk_size_message(std::uint32_t size);  // 1..2^31-1; the reserved top bit is cleared
message abort_message(std::uint32_t csid);
message acknowledgement_message(std::uint32_t sequence);  // bytes received so far (wraps at 2^32)
message window_ack_size_message(std::uint32_t size);
message set_peer_bandwidth_message(std::uint32_t size, std::uint8_t limit_type);
// Events whose payload is one 32-bit value: a message stream id (Stream Begin/EOF/Dry/Is
// Recorded) or a timestamp (Ping Request/Response).
message user_control_message(user_control_event event, std::uint32_t value);
// Set Buffer Length (event 3) is the one event with two values: stream id, then milliseconds.
message set_buffer_length_message(std::uint32_t stream_id, std::uint32_t milliseconds);

// Parsers. They read what they need from the front and ignore trailing bytes; std::nullopt when
// the payload is too short.
struct user_control {
  // Kept raw: unknown event types (FMS's 31/32, SWF verification 26/27) pass through.
  user_control_event event{};
  std::uint32_t value = 0;  // stream id or timestamp; 0 for unknown events shorter than 6 bytes
  std::uint32_t extra = 0;  // buffer length in milliseconds for set_buffer_length
};
std::optional<user_control> parse_user_control(std::span<const std::byte> payload);

// The first four bytes as a big-endian integer: Abort, Acknowledgement, Window Ack Size.
std::optional<std::uint32_t> parse_u32(std::span<const std::byte> payload);
// Set Chunk Size: like parse_u32 with the top bit cleared (5.4.1: bit 0 is reserved, MUST be 0;
// ignoring it is the lenient reading, and the range check is the chunk reader's).
std::optional<std::uint32_t> parse_set_chunk_size(std::span<const std::byte> payload);

struct peer_bandwidth {
  std::uint32_t size = 0;
  std::uint8_t limit_type = 0;
};
std::optional<peer_bandwidth> parse_set_peer_bandwidth(std::span<const std::byte> payload);

}  // namespace junction::rtmp
