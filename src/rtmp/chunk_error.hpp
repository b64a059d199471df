#pragma once
// Why the chunk layer gave up on a connection (RTMP spec 1.0 section 5.3). Every one of these is
// fatal: once the framing is in doubt, no later byte can be trusted, so the session closes.
#include <system_error>
#include <type_traits>

namespace junction::rtmp {

enum class chunk_errc {
  bad_chunk_size = 1,      // Set Chunk Size 0 or above 2^24 - 1 (after masking the reserved bit)
  message_too_large,       // a message header declares more than limits.max_message_size
  unknown_chunk_stream,    // a fmt 1/2/3 chunk on a chunk stream that never had a fmt 0 header
  too_many_chunk_streams,  // more distinct chunk stream ids than limits.max_chunk_streams
  bad_control_message,     // Set Chunk Size or Abort with a payload shorter than 4 bytes
  buffer_limit,            // incomplete messages would hold more than limits.max_buffered_bytes
  server_buffer_limit,     // ... or more than the process-wide limits.budget allows
};

const std::error_category& chunk_category() noexcept;
std::error_code make_error_code(chunk_errc e) noexcept;

}  // namespace junction::rtmp

template <>
struct std::is_error_code_enum<junction::rtmp::chunk_errc> : std::true_type {};
