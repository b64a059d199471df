#include "rtmp/aggregate.hpp"

#include <optional>

namespace junction::rtmp {

namespace {
std::uint32_t u24(std::span<const std::byte> b) {
  return std::uint32_t(b[0]) << 16 | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]);
}
}  // namespace

std::vector<message> split_aggregate(const message& m) {
  std::vector<message> parts;
  auto body = m.payload.bytes();
  std::optional<std::uint32_t> first_ts;
  // Each tag: type, 24-bit size, 24-bit timestamp + 8-bit extension, 24-bit stream id, the
  // body, then a 32-bit back pointer.
  while (body.size() >= 11) {
    const auto type = std::to_integer<std::uint8_t>(body[0]);
    const std::uint32_t size = u24(body.subspan(1));
    const std::uint32_t ts = u24(body.subspan(4)) | std::uint32_t(body[7]) << 24;
    if (body.size() < 11 + std::size_t{size} + 4) break;
    if (!first_ts) first_ts = ts;
    if (type == 8 || type == 9 || type == 18) {
      message part;
      part.chunk_stream_id = m.chunk_stream_id;
      part.type = type;
      part.stream_id = m.stream_id;
      part.timestamp = m.timestamp + (ts - *first_ts);
      part.payload = shared_buffer::copy_of(body.subspan(11, size));
      parts.push_back(std::move(part));
    }
    body = body.subspan(11 + std::size_t{size} + 4);
  }
  return parts;
}

}  // namespace junction::rtmp
