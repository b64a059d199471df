#include "rtmp/chunk_reader.hpp"

#include "rtmp/control.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace junction::rtmp {
namespace {

class chunk_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtmp.chunk"; }
  std::string message(int code) const override {
    switch (static_cast<chunk_errc>(code)) {
      case chunk_errc::bad_chunk_size:
        return "RTMP Set Chunk Size outside 1..16777215";
      case chunk_errc::message_too_large:
        return "RTMP message longer than the configured maximum";
      case chunk_errc::unknown_chunk_stream:
        return "RTMP chunk continues a chunk stream that never had a full (fmt 0) header";
      case chunk_errc::too_many_chunk_streams:
        return "too many RTMP chunk streams on one connection";
      case chunk_errc::bad_control_message:
        return "RTMP protocol control message too short";
      case chunk_errc::buffer_limit:
        return "RTMP incomplete messages exceed the connection's buffer limit";
      case chunk_errc::server_buffer_limit:
        return "RTMP incomplete messages exceed the server's buffer limit";
    }
    return "unknown RTMP chunk error";
  }
};

// A 3-byte timestamp field of 0xFFFFFF means "the real value follows in 4 bytes" (5.3.1.3).
constexpr std::uint32_t extended_marker = 0xFFFFFF;
// Section 5.4.1 allows chunk sizes up to 2^31-1, but a chunk never carries more than one
// message and a message length is a 24-bit field, so larger values mean nothing more; refusing
// them keeps every size in the 24-bit range the writer can produce too.
constexpr std::uint32_t max_chunk_size = 0xFFFFFF;
// Multi-chunk payloads start in a segment of at most this size; later segments double the total.
constexpr std::size_t first_segment_size = 64 * 1024;
// Message header length by fmt (5.3.1.2).
constexpr std::size_t message_header_size[4] = {11, 7, 3, 0};

std::uint32_t byte_at(const std::byte* p, std::size_t i) noexcept {
  return std::to_integer<std::uint32_t>(p[i]);
}
std::uint32_t be24(const std::byte* p) noexcept {
  return byte_at(p, 0) << 16 | byte_at(p, 1) << 8 | byte_at(p, 2);
}
std::uint32_t be32(const std::byte* p) noexcept { return byte_at(p, 0) << 24 | be24(p + 1); }
// The message stream id is the one little-endian field in RTMP (5.3.1.2.1).
std::uint32_t le32(const std::byte* p) noexcept {
  return byte_at(p, 0) | byte_at(p, 1) << 8 | byte_at(p, 2) << 16 | byte_at(p, 3) << 24;
}

}  // namespace

const std::error_category& chunk_category() noexcept {
  static const chunk_category_impl category;
  return category;
}

std::error_code make_error_code(chunk_errc e) noexcept {
  return {static_cast<int>(e), chunk_category()};
}

chunk_reader::chunk_reader(chunk_reader_limits limits) : limits_{limits} {}

chunk_reader::chunk_stream* chunk_reader::find(std::uint32_t csid) noexcept {
  for (auto& s : streams_)
    if (s.id == csid) return &s;
  return nullptr;
}

const chunk_reader::chunk_stream* chunk_reader::find(std::uint32_t csid) const noexcept {
  return const_cast<chunk_reader*>(this)->find(csid);
}

chunk_reader::~chunk_reader() {
  for (auto& s : streams_) discard(s);
}

void chunk_reader::discard(chunk_stream& s) noexcept {
  s.in_progress = false;
  s.received = 0;
  std::size_t held = 0;
  for (const auto& segment : s.segments) held += segment.capacity();
  buffered_ -= held;
  if (limits_.budget) limits_.budget->give_back(held);
  // Frees the payload (an idle chunk stream holds no buffer); swapped out, since clear() would
  // keep the outer vector's own allocation.
  std::vector<std::vector<std::byte>>{}.swap(s.segments);
}

std::optional<chunk_reader::time_point> chunk_reader::oldest_incomplete() const noexcept {
  std::optional<time_point> oldest;
  for (const auto& s : streams_)
    if (s.in_progress && !s.segments.empty() && (!oldest || s.started < *oldest)) oldest = s.started;
  return oldest;
}

chunk_reader::header chunk_reader::parse_header(std::span<const std::byte> bytes) const {
  header h;
  if (bytes.empty()) {
    h.size = 1;
    return h;
  }
  const std::byte* p = bytes.data();
  // Basic header (5.3.1.1): csid 0 and 1 announce a 2- or 3-byte form for ids 64..65599.
  const std::uint32_t low = byte_at(p, 0) & 0x3F;
  h.fmt = static_cast<std::uint8_t>(byte_at(p, 0) >> 6);
  std::size_t end = low == 0 ? 2 : low == 1 ? 3 : 1;
  if (bytes.size() < end) {
    h.size = end;
    return h;
  }
  h.csid = low == 0   ? 64 + byte_at(p, 1)
           : low == 1 ? 64 + byte_at(p, 1) + byte_at(p, 2) * 256
                      : low;

  const std::size_t at = end;
  end += message_header_size[h.fmt];
  if (bytes.size() < end) {
    h.size = end;
    return h;
  }
  if (h.fmt < 3) {
    h.timestamp = be24(p + at);
    h.extended = h.timestamp == extended_marker;
    if (h.fmt < 2) {
      h.length = be24(p + at + 3);
      h.type = static_cast<std::uint8_t>(byte_at(p, at + 6));
    }
    if (h.fmt == 0) h.stream_id = le32(p + at + 7);
  } else if (const chunk_stream* s = find(h.csid); s && s->extended) {
    // A fmt 3 chunk after a header with an extended timestamp carries the field again (5.3.1.3;
    // Adobe's servers, FFmpeg and librtmp all write it). For a fmt 3 chunk that starts a new
    // message it is required: it is that message's delta, as FFmpeg reads it. For a
    // continuation chunk some old encoders leave it out, so look at the next 4 bytes: equal to
    // the stored value, they are the repeated field; otherwise they are payload. A payload that
    // happens to begin with those exact 4 bytes from such an encoder is misread; there is no
    // way to tell the two apart, and repeating senders are by far the common case. Deciding
    // needs 4 bytes even when fewer payload bytes remain, so such an encoder's message can sit
    // until the next chunk arrives.
    h.extended = true;
    if (s->in_progress) {
      if (bytes.size() < end + 4) {
        h.size = end + 4;
        return h;
      }
      h.extended = be32(p + end) == s->delta;
    }
  }
  if (h.extended) {
    if (bytes.size() < end + 4) {
      h.size = end + 4;
      return h;
    }
    h.timestamp = be32(p + end);
    end += 4;
  }
  h.complete = true;
  h.size = end;
  return h;
}

std::error_code chunk_reader::start_chunk(const header& h, std::vector<message>& out) {
  chunk_stream* s = find(h.csid);
  if (!s) {
    // librtmp's RTMP_SendCtrl and RTMP_SendBytesReceived use a fmt 1 header even for the first
    // message on chunk stream 2 (SRS accepts it for the same reason); the missing fields are
    // those of a protocol control message: stream 0, timestamp base 0.
    const bool librtmp_control = h.fmt == 1 && h.csid == csid::protocol_control;
    if (h.fmt != 0 && !librtmp_control) return chunk_errc::unknown_chunk_stream;
    if (streams_.size() >= limits_.max_chunk_streams) return chunk_errc::too_many_chunk_streams;
    s = &streams_.emplace_back();
    s->id = h.csid;
  }
  current_ = static_cast<std::size_t>(s - streams_.data());

  if (h.fmt != 3 || !s->in_progress) {
    // A new message. A full header arriving mid-message is not allowed by the spec; treat it as
    // an implicit Abort of the partial message rather than splicing two messages together.
    if (s->in_progress) discard(*s);
    switch (h.fmt) {
      case 0:
        s->stream_id = h.stream_id;
        s->length = h.length;
        s->type = h.type;
        s->timestamp = h.timestamp;
        // What a later fmt 3 new message re-adds. After fmt 0 that is the absolute timestamp
        // field: FFmpeg (rtmp_packet_read_one_chunk) and librtmp read it so; nginx-rtmp adds 0
        // instead. Our chunk_writer never sends fmt 3 straight after fmt 0, so it does not
        // depend on which reading the peer has.
        s->delta = h.timestamp;
        s->extended = h.extended;
        break;
      case 1:
        s->length = h.length;
        s->type = h.type;
        [[fallthrough]];
      case 2:
        s->delta = h.timestamp;
        s->timestamp += h.timestamp;
        s->extended = h.extended;
        break;
      default:  // fmt 3: everything repeats, the extended field (if any) is this delta
        if (h.extended) s->delta = h.timestamp;
        s->timestamp += s->delta;
        break;
    }
    // Refused before any payload byte is buffered.
    if (s->length > limits_.max_message_size) return chunk_errc::message_too_large;
    s->in_progress = true;
    s->received = 0;
    if (s->length == 0) {  // an empty message is legal and has no payload bytes at all
      chunk_left_ = 0;
      return complete(*s, shared_buffer{}, out);
    }
  }
  chunk_left_ = std::min(chunk_size_, s->length - s->received);
  return {};
}

std::error_code chunk_reader::take_payload(std::span<const std::byte> bytes,
                                           std::vector<message>& out) {
  chunk_stream& s = streams_[current_];
  chunk_left_ -= static_cast<std::uint32_t>(bytes.size());
  if (s.received == 0 && bytes.size() == s.length) {
    // The whole message in one piece (one chunk, one read): a single copy, no staging.
    s.received = s.length;
    return complete(s, shared_buffer::copy_of(bytes), out);
  }
  while (!bytes.empty()) {
    if (s.segments.empty() || s.segments.back().size() == s.segments.back().capacity()) {
      const std::size_t want = s.segments.empty()
                                   ? std::min<std::size_t>(s.length, first_segment_size)
                                   : std::min<std::size_t>(s.length - s.received, s.received);
      // Counted before it is taken: the peer decides how many messages it leaves unfinished.
      if (buffered_ + want > limits_.max_buffered_bytes) return chunk_errc::buffer_limit;
      if (limits_.budget && !limits_.budget->try_take(want)) return chunk_errc::server_buffer_limit;
      buffered_ += want;
      if (s.segments.empty()) s.started = now_;
      s.segments.emplace_back().reserve(want);
    }
    auto& segment = s.segments.back();
    // Never past capacity: a segment is filled in place and never reallocated.
    const std::size_t n = std::min(bytes.size(), segment.capacity() - segment.size());
    segment.insert(segment.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    s.received += static_cast<std::uint32_t>(n);
  }
  if (s.received < s.length) return {};
  // The one copy into the buffer that is shared from here on.
  auto payload = shared_buffer::build(s.length, [&](std::span<std::byte> to) {
    for (const auto& segment : s.segments) {
      std::memcpy(to.data(), segment.data(), segment.size());
      to = to.subspan(segment.size());
    }
  });
  return complete(s, std::move(payload), out);
}

std::error_code chunk_reader::complete(chunk_stream& s, shared_buffer payload,
                                       std::vector<message>& out) {
  message m{.chunk_stream_id = s.id,
            .type = s.type,
            .timestamp = s.timestamp,
            .stream_id = s.stream_id,
            .payload = std::move(payload)};
  discard(s);
  if (auto ec = apply_control(m)) return ec;
  out.push_back(std::move(m));
  return {};
}

// Section 5.4: these two change the framing of every byte that follows, so they cannot wait for
// the session. They are honoured on any chunk stream and message stream id (5.4 says 2 and 0),
// as FFmpeg does: ignoring one the peer meant would desynchronise the whole connection.
std::error_code chunk_reader::apply_control(const message& m) {
  switch (m.kind()) {
    case message_type::set_chunk_size: {
      auto size = parse_set_chunk_size(m.payload.bytes());
      if (!size) return chunk_errc::bad_control_message;
      if (*size == 0 || *size > max_chunk_size) return chunk_errc::bad_chunk_size;
      chunk_size_ = *size;
      return {};
    }
    case message_type::abort: {
      auto csid = parse_u32(m.payload.bytes());
      if (!csid) return chunk_errc::bad_control_message;
      if (chunk_stream* s = find(*csid)) discard(*s);
      return {};
    }
    default:
      return {};
  }
}

chunk_reader::result chunk_reader::feed(std::span<const std::byte> in, std::vector<message>& out,
                                        time_point now) {
  if (error_) return {0, error_};
  now_ = now;
  std::size_t at = 0;  // bytes of `in` used so far
  auto drop_pending = [this](std::size_t n) noexcept {
    std::memmove(pending_.data(), pending_.data() + n, pending_size_ - n);
    pending_size_ -= n;
  };
  std::error_code ec;
  while (!ec) {
    if (chunk_left_ > 0) {
      // Payload: pending bytes come first, they precede `in` on the wire.
      if (pending_size_ > 0) {
        const std::size_t n = std::min<std::size_t>(chunk_left_, pending_size_);
        ec = take_payload({pending_.data(), n}, out);
        drop_pending(n);
      } else if (at < in.size()) {
        const std::size_t n = std::min<std::size_t>(chunk_left_, in.size() - at);
        ec = take_payload(in.subspan(at, n), out);
        at += n;
      } else {
        break;
      }
      continue;
    }
    header h;
    if (pending_size_ == 0) {
      h = parse_header(in.subspan(at));
      if (!h.complete) {  // fewer than max_header_size bytes left: keep them for the next feed
        const std::size_t rest = in.size() - at;
        if (rest > 0) std::memcpy(pending_.data(), in.data() + at, rest);
        pending_size_ = rest;
        at = in.size();
        break;
      }
      at += h.size;
    } else {
      // Top up the pending bytes only to what the header needs, so bytes past it stay in `in`.
      h = parse_header({pending_.data(), pending_size_});
      while (!h.complete && at < in.size()) {
        const std::size_t n = std::min(h.size - pending_size_, in.size() - at);
        std::memcpy(pending_.data() + pending_size_, in.data() + at, n);
        pending_size_ += n;
        at += n;
        h = parse_header({pending_.data(), pending_size_});
      }
      if (!h.complete) break;
      drop_pending(h.size);
    }
    ec = start_chunk(h, out);
  }
  bytes_received_ += at;
  if (ec) error_ = ec;
  return {at, ec};
}

}  // namespace junction::rtmp
