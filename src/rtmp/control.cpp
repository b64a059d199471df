#include "rtmp/control.hpp"

#include <array>

namespace junction::rtmp {
namespace {

void put_u16(std::span<std::byte> to, std::uint16_t v) noexcept {
  to[0] = std::byte(v >> 8);
  to[1] = std::byte(v);
}

void put_u32(std::span<std::byte> to, std::uint32_t v) noexcept {
  to[0] = std::byte(v >> 24);
  to[1] = std::byte(v >> 16);
  to[2] = std::byte(v >> 8);
  to[3] = std::byte(v);
}

std::uint16_t get_u16(std::span<const std::byte> from) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(from[0]) << 8 |
                                    std::to_integer<unsigned>(from[1]));
}

std::uint32_t get_u32(std::span<const std::byte> from) noexcept {
  return std::to_integer<std::uint32_t>(from[0]) << 24 |
         std::to_integer<std::uint32_t>(from[1]) << 16 |
         std::to_integer<std::uint32_t>(from[2]) << 8 | std::to_integer<std::uint32_t>(from[3]);
}

message control_message(message_type type, std::span<const std::byte> payload) {
  return message{.chunk_stream_id = csid::protocol_control,
                 .type = static_cast<std::uint8_t>(type),
                 .timestamp = 0,
                 .stream_id = 0,
                 .payload = shared_buffer::copy_of(payload)};
}

message u32_message(message_type type, std::uint32_t value) {
  std::array<std::byte, 4> payload;
  put_u32(payload, value);
  return control_message(type, payload);
}

// Events whose payload is the event type alone or with one value (section 7.1.7).
bool has_value(user_control_event event) noexcept {
  switch (event) {
    case user_control_event::stream_begin:
    case user_control_event::stream_eof:
    case user_control_event::stream_dry:
    case user_control_event::set_buffer_length:
    case user_control_event::stream_is_recorded:
    case user_control_event::ping_request:
    case user_control_event::ping_response:
      return true;
  }
  return false;
}

}  // namespace

message set_chunk_size_message(std::uint32_t size) {
  return u32_message(message_type::set_chunk_size, size & 0x7FFFFFFF);
}

message abort_message(std::uint32_t csid) { return u32_message(message_type::abort, csid); }

message acknowledgement_message(std::uint32_t sequence) {
  return u32_message(message_type::acknowledgement, sequence);
}

message window_ack_size_message(std::uint32_t size) {
  return u32_message(message_type::window_ack_size, size);
}

message set_peer_bandwidth_message(std::uint32_t size, std::uint8_t limit_type) {
  std::array<std::byte, 5> payload;
  put_u32(payload, size);
  payload[4] = std::byte{limit_type};
  return control_message(message_type::set_peer_bandwidth, payload);
}

message user_control_message(user_control_event event, std::uint32_t value) {
  std::array<std::byte, 6> payload;
  put_u16(payload, static_cast<std::uint16_t>(event));
  put_u32(std::span{payload}.subspan(2), value);
  return control_message(message_type::user_control, payload);
}

message set_buffer_length_message(std::uint32_t stream_id, std::uint32_t milliseconds) {
  std::array<std::byte, 10> payload;
  put_u16(payload, static_cast<std::uint16_t>(user_control_event::set_buffer_length));
  put_u32(std::span{payload}.subspan(2), stream_id);
  put_u32(std::span{payload}.subspan(6), milliseconds);
  return control_message(message_type::user_control, payload);
}

std::optional<user_control> parse_user_control(std::span<const std::byte> payload) {
  if (payload.size() < 2) return std::nullopt;
  user_control result{.event = static_cast<user_control_event>(get_u16(payload))};
  const std::size_t needed = result.event == user_control_event::set_buffer_length ? 10
                             : has_value(result.event)                             ? 6
                                                                                   : 2;
  if (payload.size() < needed) return std::nullopt;
  // Unknown events: still expose a leading value when there is one (FMS's Buffer Empty/Ready
  // carry a stream id), so a caller can log or use it without parsing again.
  if (payload.size() >= 6) result.value = get_u32(payload.subspan(2));
  if (result.event == user_control_event::set_buffer_length)
    result.extra = get_u32(payload.subspan(6));
  return result;
}

std::optional<std::uint32_t> parse_u32(std::span<const std::byte> payload) {
  if (payload.size() < 4) return std::nullopt;
  return get_u32(payload);
}

std::optional<std::uint32_t> parse_set_chunk_size(std::span<const std::byte> payload) {
  auto value = parse_u32(payload);
  if (value) *value &= 0x7FFFFFFF;
  return value;
}

std::optional<peer_bandwidth> parse_set_peer_bandwidth(std::span<const std::byte> payload) {
  if (payload.size() < 5) return std::nullopt;
  return peer_bandwidth{.size = get_u32(payload),
                        .limit_type = std::to_integer<std::uint8_t>(payload[4])};
}

}  // namespace junction::rtmp
