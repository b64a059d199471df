#pragma once
// An RTMP message as the chunk layer assembles it (RTMP spec 1.0, section 5.3/6).
#include "core/shared_buffer.hpp"

#include <cstdint>

namespace junction::rtmp {

// Message type ids (RTMP 1.0 sections 5.4, 6.2, 7.1).
enum class message_type : std::uint8_t {
  set_chunk_size = 1,
  abort = 2,
  acknowledgement = 3,
  user_control = 4,
  window_ack_size = 5,
  set_peer_bandwidth = 6,
  audio = 8,
  video = 9,
  data_amf3 = 15,
  shared_object_amf3 = 16,
  command_amf3 = 17,
  data_amf0 = 18,
  shared_object_amf0 = 19,
  command_amf0 = 20,
  aggregate = 22,
};

// User control event types (RTMP 1.0 section 7.1.7).
enum class user_control_event : std::uint16_t {
  stream_begin = 0,
  stream_eof = 1,
  stream_dry = 2,
  set_buffer_length = 3,
  stream_is_recorded = 4,
  ping_request = 6,
  ping_response = 7,
};

// Chunk stream ids Junction writes on (the ones FMS and nginx-rtmp use, which clients expect).
namespace csid {
inline constexpr std::uint32_t protocol_control = 2;
inline constexpr std::uint32_t command = 3;
inline constexpr std::uint32_t audio = 4;
inline constexpr std::uint32_t video = 6;
inline constexpr std::uint32_t data = 5;
// Metadata a stream carries (onMetaData) is serialized once and shared by every player, so it
// must not share a chunk stream with per-connection, header-compressed commands.
inline constexpr std::uint32_t media_data = 8;
}  // namespace csid

struct message {
  std::uint32_t chunk_stream_id = 0;
  std::uint8_t type = 0;  // a message_type, kept raw: unknown types pass through
  std::uint32_t timestamp = 0;  // absolute, milliseconds (deltas already applied)
  std::uint32_t stream_id = 0;  // message stream id
  shared_buffer payload;

  message_type kind() const noexcept { return static_cast<message_type>(type); }
};

}  // namespace junction::rtmp
