#pragma once
// Outgoing RTMP chunk stream (RTMP spec 1.0 section 5.3): messages in, chunk bytes out.
//
// Two ways to write, for two kinds of traffic:
// - `chunked()` serializes one message on its own: a fmt 0 chunk (full header, absolute
//   timestamp) then fmt 3 continuations. It depends on no per-connection state, so one buffer
//   can be built per media message and shared by every player of a stream, as long as they all
//   use the same outgoing chunk size.
// - `chunk_writer` keeps the last header per chunk stream and compresses the next one (fmt 1/2/3)
//   for one connection's control and command traffic.
// Timestamps of 0xFFFFFF and above go in the extended timestamp field, which is repeated in every
// fmt 3 chunk that follows (5.3.1.3), as Adobe's servers and FFmpeg write it.
//
// Preconditions, all under the caller's control: chunk stream id 2..65599, payload shorter than
// 2^24 bytes (the length field has 24 bits), chunk size 1..2^24-1 (0 is treated as 1).
#include "rtmp/message.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace junction::rtmp {

// The exact number of bytes `chunked` produces for such a message.
std::size_t chunked_size(std::uint32_t csid, std::uint32_t timestamp, std::size_t payload_size,
                         std::uint32_t chunk_size) noexcept;

// Serializes a message (its chunk_stream_id, type, timestamp, stream_id and payload) with a fmt 0
// first chunk into `out`, which must be exactly chunked_size() bytes long.
void write_chunked(std::span<std::byte> out, const message& m, std::uint32_t chunk_size) noexcept;

// The same, appended to `out`.
void append_chunked(std::vector<std::byte>& out, const message& m, std::uint32_t chunk_size);

// The same, in one fresh buffer of exactly chunked_size() bytes (one allocation, one copy of the
// payload).
shared_buffer chunked(std::uint32_t csid, std::uint8_t type, std::uint32_t timestamp,
                      std::uint32_t stream_id, std::span<const std::byte> payload,
                      std::uint32_t chunk_size);
shared_buffer chunked(const message& m, std::uint32_t chunk_size);

// One connection's outgoing chunk streams, with header compression (5.3.1.2):
//   fmt 0 on a chunk stream's first message, on a new message stream id, or when the timestamp
//         goes backwards (a delta is unsigned);
//   fmt 1 when the length or type changed;
//   fmt 2 when only the timestamp delta changed;
//   fmt 3 when the delta repeats too.
class chunk_writer {
 public:
  explicit chunk_writer(std::uint32_t chunk_size = 128) noexcept;

  // Appends `m` as chunks to `out`.
  void write(std::vector<std::byte>& out, const message& m);

  // The size the peer has been told. Call after writing the Set Chunk Size message: that
  // message itself still goes out with the old size (5.4.1).
  void set_chunk_size(std::uint32_t size) noexcept;
  std::uint32_t chunk_size() const noexcept { return chunk_size_; }

  // Forgets the header state of `csid`, so its next message gets a fmt 0 header. Needed when
  // bytes from elsewhere (a shared `chunked()` buffer) went out on that chunk stream in between:
  // the peer's idea of the last header changed without this writer seeing it.
  void forget(std::uint32_t csid) noexcept;

 private:
  struct chunk_stream {
    std::uint32_t id = 0;
    std::uint32_t timestamp = 0;  // absolute timestamp of the last message
    std::uint32_t delta = 0;      // timestamp field of the last header
    std::uint32_t length = 0;
    std::uint32_t stream_id = 0;
    std::uint8_t type = 0;
    bool has_delta = false;  // the last header was fmt 1/2/3, so `delta` is a real delta
  };

  std::uint32_t chunk_size_;
  std::vector<chunk_stream> streams_;
};

}  // namespace junction::rtmp
