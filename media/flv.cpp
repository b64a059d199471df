#include "media/flv.hpp"

#include <cstring>

namespace junction::media::flv {

namespace {
void put_u24(std::byte* p, std::uint32_t v) {
  p[0] = std::byte(v >> 16);
  p[1] = std::byte(v >> 8);
  p[2] = std::byte(v);
}
void put_u32(std::byte* p, std::uint32_t v) {
  put_u24(p, v >> 8);
  p[3] = std::byte(v);
}
}  // namespace

std::array<std::byte, header_size + previous_tag_size_field> file_header(bool audio, bool video) {
  std::array<std::byte, header_size + previous_tag_size_field> h{};
  h[0] = std::byte{'F'};
  h[1] = std::byte{'L'};
  h[2] = std::byte{'V'};
  h[3] = std::byte{1};
  h[4] = std::byte((audio ? 0x04 : 0) | (video ? 0x01 : 0));
  put_u32(&h[5], header_size);
  return h;  // PreviousTagSize0 is already zero
}

shared_buffer tag(const frame& f) {
  const auto body = f.payload.bytes();
  const std::size_t total = tag_header_size + body.size() + previous_tag_size_field;
  return shared_buffer::build(total, [&](std::span<std::byte> out) {
    std::byte* p = out.data();
    p[0] = std::byte(static_cast<std::uint8_t>(f.track));
    put_u24(p + 1, static_cast<std::uint32_t>(body.size()));
    // Timestamp: low 24 bits, then the extension byte with bits 24-31.
    put_u24(p + 4, f.timestamp & 0xFFFFFF);
    p[7] = std::byte(f.timestamp >> 24);
    put_u24(p + 8, 0);  // StreamID, always 0
    if (!body.empty()) std::memcpy(p + tag_header_size, body.data(), body.size());
    put_u32(p + tag_header_size + body.size(),
            static_cast<std::uint32_t>(tag_header_size + body.size()));
  });
}

}  // namespace junction::media::flv
