#pragma once
// Incoming RTMP chunk stream (RTMP spec 1.0 section 5.3) as a sans-IO framer: bytes in, whole
// messages out. It owns no socket and no clock; a session feeds it what it reads and handles
// what it returns. Only the two protocol control messages that change the framing itself (Set
// Chunk Size, Abort) are acted on here; everything else is the caller's to interpret.
//
// Per chunk stream it keeps the last message header, which fmt 1/2/3 headers inherit from:
//   fmt 0: absolute timestamp, length, type, message stream id (11 bytes)
//   fmt 1: timestamp delta, length, type (7 bytes)  — same message stream id
//   fmt 2: timestamp delta (3 bytes)                 — same length and type
//   fmt 3: nothing — a continuation chunk, or a new message repeating the last header and delta
// Deltas are added modulo 2^32: RTMP timestamps wrap after ~49.7 days.
#include "core/memory_budget.hpp"
#include "rtmp/chunk_error.hpp"
#include "rtmp/message.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

namespace junction::rtmp {

// Hard limits, because the peer chooses every length on the wire. They bound memory: a message
// is buffered until complete, and each chunk stream keeps its own partial message, so without a
// limit on their sum one connection could hold max_chunk_streams x max_message_size (512 MiB)
// by sending all but the last chunk of each.
struct chunk_reader_limits {
  std::uint32_t max_message_size = 8 << 20;  // the length field would allow 16 MiB
  std::uint32_t max_chunk_streams = 64;      // distinct chunk stream ids kept at once
  // Bytes all incomplete messages of this connection may hold together (buffer capacity, so what
  // memory they really take). The session raises it once a publisher is accepted.
  std::size_t max_buffered_bytes = 16 << 20;
  // Shared by every connection of the process, when set.
  memory_budget* budget = nullptr;
};

class chunk_reader {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  explicit chunk_reader(chunk_reader_limits limits = {});
  ~chunk_reader();
  chunk_reader(const chunk_reader&) = delete;
  chunk_reader& operator=(const chunk_reader&) = delete;

  struct result {
    std::size_t consumed = 0;  // bytes of `in` used: all of them unless `error` is set
    std::error_code error;     // a chunk_errc; sticky: the connection is to be closed
  };

  // Consumes bytes, appending every completed message to `out` in completion order. The input
  // may be split anywhere: a partial chunk header or message is kept until the rest arrives.
  // Set Chunk Size (type 1) and Abort (type 2) take effect as soon as they complete, since they
  // decide how the following bytes are framed, and are still appended to `out`.
  // `now` stamps the messages this input starts (see oldest_incomplete); the reader keeps no clock.
  result feed(std::span<const std::byte> in, std::vector<message>& out, time_point now = {});

  // Raises or lowers max_buffered_bytes; what is buffered already stays until it completes.
  void set_buffer_limit(std::size_t bytes) noexcept { limits_.max_buffered_bytes = bytes; }
  std::size_t buffered_bytes() const noexcept { return buffered_; }
  // When the oldest message still incomplete (with payload held) began: a peer that starts
  // messages and never finishes them is closed by its session after a timeout.
  std::optional<time_point> oldest_incomplete() const noexcept;

  std::uint32_t chunk_size() const noexcept { return chunk_size_; }  // starts at 128 (5.4.1)
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }  // for Acknowledgement
  std::size_t chunk_stream_count() const noexcept { return streams_.size(); }

 private:
  // The biggest chunk header: 3-byte basic header, 11-byte fmt 0 header, extended timestamp.
  static constexpr std::size_t max_header_size = 3 + 11 + 4;

  struct chunk_stream {
    std::uint32_t id = 0;
    // The last message header, inherited by fmt 1/2/3 headers.
    std::uint32_t timestamp = 0;  // absolute timestamp of the last message started
    std::uint32_t delta = 0;      // last timestamp field (full value when extended); see .cpp
    std::uint32_t length = 0;
    std::uint32_t stream_id = 0;
    std::uint8_t type = 0;
    bool extended = false;  // the last header used the extended timestamp field
    // The message being assembled (section 5.3.2.2: messages on different chunk streams
    // interleave, so each keeps its own).
    bool in_progress = false;
    std::uint32_t received = 0;
    time_point started{};  // when its first payload byte arrived
    // Payload so far, in segments that each double the total: memory grows with bytes actually
    // received (not with a declared length) and nothing is copied until the message completes.
    std::vector<std::vector<std::byte>> segments;
  };

  struct header {
    bool complete = false;
    std::size_t size = 0;  // header bytes when complete, else the bytes needed to go on
    std::uint8_t fmt = 0;
    std::uint32_t csid = 0;
    std::uint32_t timestamp = 0;  // timestamp or delta, the extended value when present
    std::uint32_t length = 0;
    std::uint32_t stream_id = 0;
    std::uint8_t type = 0;
    bool extended = false;
  };

  header parse_header(std::span<const std::byte> bytes) const;
  std::error_code start_chunk(const header& h, std::vector<message>& out);
  std::error_code take_payload(std::span<const std::byte> bytes, std::vector<message>& out);
  std::error_code complete(chunk_stream& s, shared_buffer payload, std::vector<message>& out);
  std::error_code apply_control(const message& m);
  chunk_stream* find(std::uint32_t csid) noexcept;
  const chunk_stream* find(std::uint32_t csid) const noexcept;
  void discard(chunk_stream& s) noexcept;

  chunk_reader_limits limits_;
  std::uint32_t chunk_size_ = 128;
  std::uint64_t bytes_received_ = 0;
  std::size_t buffered_ = 0;  // capacity of every segment held, taken from limits_.budget too
  time_point now_{};
  std::vector<chunk_stream> streams_;
  // Unconsumed bytes ahead of the next feed() input: a partial header, or up to 4 payload bytes
  // looked at as a possible repeated extended timestamp (see parse_header).
  std::array<std::byte, max_header_size> pending_{};
  std::size_t pending_size_ = 0;
  std::size_t current_ = 0;       // index in streams_ of the chunk whose payload is being read
  std::uint32_t chunk_left_ = 0;  // payload bytes of that chunk still to come; 0: a header next
  std::error_code error_;
};

}  // namespace junction::rtmp
