#include "rtmp/chunk_writer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace junction::rtmp {
namespace {

// A 3-byte timestamp field of 0xFFFFFF means "the real value follows in 4 bytes" (5.3.1.3).
constexpr std::uint32_t extended_marker = 0xFFFFFF;
constexpr std::size_t message_header_size[4] = {11, 7, 3, 0};  // by fmt (5.3.1.2)

struct chunk_header {
  std::uint32_t csid = 0;
  std::uint8_t fmt = 0;
  std::uint32_t field = 0;  // fmt 0: absolute timestamp; fmt 1/2/3: delta
  std::uint32_t length = 0;
  std::uint8_t type = 0;
  std::uint32_t stream_id = 0;
};

std::uint32_t normalized(std::uint32_t chunk_size) noexcept { return std::max(chunk_size, 1u); }

// Basic header (5.3.1.1): ids 2..63 in one byte, 64..319 in two, 320..65599 in three.
std::size_t basic_header_size(std::uint32_t csid) noexcept {
  return csid < 64 ? 1 : csid < 64 + 256 ? 2 : 3;
}

std::size_t encoded_size(const chunk_header& h, std::size_t payload_size,
                         std::uint32_t chunk_size) noexcept {
  const std::size_t extended = h.field >= extended_marker ? 4 : 0;
  const std::size_t basic = basic_header_size(h.csid);
  const std::size_t chunks = payload_size == 0 ? 1 : (payload_size - 1) / chunk_size + 1;
  return basic + message_header_size[h.fmt] + extended + payload_size +
         (chunks - 1) * (basic + extended);
}

std::byte* put_basic_header(std::byte* p, std::uint8_t fmt, std::uint32_t csid) noexcept {
  const unsigned high = static_cast<unsigned>(fmt) << 6;
  if (csid < 64) {
    *p++ = std::byte(high | csid);
  } else if (csid < 64 + 256) {
    *p++ = std::byte(high);
    *p++ = std::byte(csid - 64);
  } else {
    *p++ = std::byte(high | 1);
    *p++ = std::byte((csid - 64) & 0xFF);  // low byte first (5.3.1.1)
    *p++ = std::byte((csid - 64) >> 8);
  }
  return p;
}

std::byte* put_be24(std::byte* p, std::uint32_t v) noexcept {
  *p++ = std::byte(v >> 16);
  *p++ = std::byte(v >> 8);
  *p++ = std::byte(v);
  return p;
}

std::byte* put_be32(std::byte* p, std::uint32_t v) noexcept {
  *p++ = std::byte(v >> 24);
  return put_be24(p, v);
}

// The message stream id is the one little-endian field in RTMP (5.3.1.2.1).
std::byte* put_le32(std::byte* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) *p++ = std::byte(v >> (8 * i));
  return p;
}

// Writes exactly encoded_size(h, payload.size(), chunk_size) bytes at `p`.
void encode(std::byte* p, const chunk_header& h, std::span<const std::byte> payload,
            std::uint32_t chunk_size) noexcept {
  assert(h.csid >= 2 && h.csid <= 65599);
  assert(payload.size() <= 0xFFFFFF);
  const bool extended = h.field >= extended_marker;
  p = put_basic_header(p, h.fmt, h.csid);
  if (h.fmt < 3) {
    p = put_be24(p, extended ? extended_marker : h.field);
    if (h.fmt < 2) {
      p = put_be24(p, h.length);
      *p++ = std::byte{h.type};
    }
    if (h.fmt == 0) p = put_le32(p, h.stream_id);
  }
  if (extended) p = put_be32(p, h.field);
  std::size_t offset = 0;
  for (;;) {
    const std::size_t n = std::min<std::size_t>(chunk_size, payload.size() - offset);
    if (n > 0) std::memcpy(p, payload.data() + offset, n);
    p += n;
    offset += n;
    if (offset == payload.size()) break;
    // Continuation: fmt 3, repeating the extended field of the first chunk (5.3.1.3).
    p = put_basic_header(p, 3, h.csid);
    if (extended) p = put_be32(p, h.field);
  }
}

chunk_header full_header(const message& m) noexcept {
  return {.csid = m.chunk_stream_id,
          .fmt = 0,
          .field = m.timestamp,
          .length = static_cast<std::uint32_t>(m.payload.size()),
          .type = m.type,
          .stream_id = m.stream_id};
}

}  // namespace

std::size_t chunked_size(std::uint32_t csid, std::uint32_t timestamp, std::size_t payload_size,
                         std::uint32_t chunk_size) noexcept {
  return encoded_size({.csid = csid, .fmt = 0, .field = timestamp}, payload_size,
                      normalized(chunk_size));
}

void write_chunked(std::span<std::byte> out, const message& m, std::uint32_t chunk_size) noexcept {
  assert(out.size() == chunked_size(m.chunk_stream_id, m.timestamp, m.payload.size(), chunk_size));
  encode(out.data(), full_header(m), m.payload.bytes(), normalized(chunk_size));
}

void append_chunked(std::vector<std::byte>& out, const message& m, std::uint32_t chunk_size) {
  const std::size_t at = out.size();
  out.resize(at + chunked_size(m.chunk_stream_id, m.timestamp, m.payload.size(), chunk_size));
  encode(out.data() + at, full_header(m), m.payload.bytes(), normalized(chunk_size));
}

shared_buffer chunked(std::uint32_t csid, std::uint8_t type, std::uint32_t timestamp,
                      std::uint32_t stream_id, std::span<const std::byte> payload,
                      std::uint32_t chunk_size) {
  const chunk_header h{.csid = csid,
                       .fmt = 0,
                       .field = timestamp,
                       .length = static_cast<std::uint32_t>(payload.size()),
                       .type = type,
                       .stream_id = stream_id};
  chunk_size = normalized(chunk_size);
  return shared_buffer::build(
      encoded_size(h, payload.size(), chunk_size),
      [&](std::span<std::byte> out) { encode(out.data(), h, payload, chunk_size); });
}

shared_buffer chunked(const message& m, std::uint32_t chunk_size) {
  return chunked(m.chunk_stream_id, m.type, m.timestamp, m.stream_id, m.payload.bytes(),
                 chunk_size);
}

chunk_writer::chunk_writer(std::uint32_t chunk_size) noexcept
    : chunk_size_{normalized(chunk_size)} {}

void chunk_writer::set_chunk_size(std::uint32_t size) noexcept { chunk_size_ = normalized(size); }

void chunk_writer::forget(std::uint32_t csid) noexcept {
  std::erase_if(streams_, [csid](const chunk_stream& s) { return s.id == csid; });
}

void chunk_writer::write(std::vector<std::byte>& out, const message& m) {
  chunk_header h = full_header(m);
  auto it = std::find_if(streams_.begin(), streams_.end(),
                         [&](const chunk_stream& s) { return s.id == m.chunk_stream_id; });
  // A timestamp going backwards (or wrapping) cannot be a delta, which is unsigned: such a
  // message restarts with fmt 0, as FFmpeg's ff_rtmp_packet_write does.
  if (it != streams_.end() && it->stream_id == m.stream_id && m.timestamp >= it->timestamp) {
    h.field = m.timestamp - it->timestamp;
    if (h.type != it->type || h.length != it->length)
      h.fmt = 1;
    else if (it->has_delta && h.field == it->delta)
      // Never straight after fmt 0: readers disagree on what a fmt 3 new message adds then
      // (FFmpeg and librtmp re-add the absolute timestamp, nginx-rtmp adds 0).
      h.fmt = 3;
    else
      h.fmt = 2;
  }
  if (it == streams_.end()) it = streams_.insert(streams_.end(), chunk_stream{.id = h.csid});
  it->timestamp = m.timestamp;
  it->delta = h.field;
  it->length = h.length;
  it->stream_id = m.stream_id;
  it->type = m.type;
  it->has_delta = h.fmt != 0;

  const std::size_t at = out.size();
  out.resize(at + encoded_size(h, m.payload.size(), chunk_size_));
  encode(out.data() + at, h, m.payload.bytes(), chunk_size_);
}

}  // namespace junction::rtmp
