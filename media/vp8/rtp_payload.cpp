#include "media/vp8/rtp_payload.hpp"

#include <cstring>

namespace junction::media::vp8 {
namespace {

constexpr std::uint8_t fourcc[4] = {'v', 'p', '0', '8'};
constexpr std::size_t header_size = 5;  // extended header byte and FourCC

}  // namespace

shared_buffer flv_body(bool keyframe, std::span<const std::uint8_t> data) {
  return shared_buffer::build(header_size + data.size(), [&](std::span<std::byte> out) {
    auto* p = reinterpret_cast<std::uint8_t*>(out.data());
    p[0] = static_cast<std::uint8_t>(0x80 | (keyframe ? 0x10 : 0x20) | 1);  // coded frames
    std::memcpy(p + 1, fourcc, 4);
    if (!data.empty()) std::memcpy(p + header_size, data.data(), data.size());
  });
}

std::span<const std::uint8_t> frame_data(const frame& f) {
  auto b = f.payload.bytes();
  if (f.codec != codec::vp8 || b.size() <= header_size) return {};
  const auto first = std::to_integer<std::uint8_t>(b[0]);
  const unsigned packet_type = first & 0x0F;
  if (packet_type != 1 && packet_type != 3) return {};  // coded frames (3: without a composition time)
  return {reinterpret_cast<const std::uint8_t*>(b.data()) + header_size, b.size() - header_size};
}

std::optional<picture_size> keyframe_size(std::span<const std::uint8_t> data) {
  if (data.size() < 10 || !is_keyframe(data) || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a)
    return std::nullopt;
  return picture_size{(data[6] | data[7] << 8) & 0x3FFFu, (data[8] | data[9] << 8) & 0x3FFFu};
}

std::optional<payload_descriptor> read_descriptor(std::span<const std::uint8_t> payload) {
  if (payload.empty()) return std::nullopt;
  payload_descriptor d;
  const std::uint8_t first = payload[0];
  d.start = first & 0x10;
  d.partition = first & 0x07;
  std::size_t at = 1;
  if (first & 0x80) {  // X: an extension byte follows
    if (payload.size() < 2) return std::nullopt;
    const std::uint8_t x = payload[1];
    at = 2;
    if (x & 0x80) {  // I: PictureID, 15 bits when its M bit is set
      if (payload.size() <= at) return std::nullopt;
      if (payload[at] & 0x80) {
        if (payload.size() < at + 2) return std::nullopt;
        d.picture_id = static_cast<std::uint16_t>((payload[at] & 0x7F) << 8 | payload[at + 1]);
        at += 2;
      } else {
        d.picture_id = payload[at];
        at += 1;
      }
    }
    if (x & 0x40) ++at;           // L: TL0PICIDX
    if (x & 0x30) ++at;           // T or K: TID/Y/KEYIDX
  }
  if (payload.size() <= at) return std::nullopt;  // a descriptor without data
  d.size = at;
  return d;
}

void rtp_depacketizer::finish(std::vector<frame>& out) {
  if (!have_frame_) return;
  have_frame_ = false;
  const bool keyframe = is_keyframe(data_);
  if (broken_ || data_.empty() || (waiting_for_key_ && !keyframe)) {
    ++counters_.dropped_frames;
    if (broken_) waiting_for_key_ = true;
    broken_ = false;
    data_.clear();
    return;
  }
  waiting_for_key_ = false;
  ++counters_.frames;
  out.push_back(make_frame(track::video, clock_.to_milliseconds(frame_timestamp_), flv_body(keyframe, data_)));
  data_.clear();
}

void rtp_depacketizer::push(const rtp::packet& p, std::vector<frame>& out) {
  ++counters_.packets;
  if (started_ && p.header.sequence != expected_sequence_) {
    if (!rtp::sequence_after(p.header.sequence, expected_sequence_)) return;  // late or duplicate
    // A gap: the frame in progress lost its end (or the next frame its start). Whatever was
    // lost, later inter frames may refer to it.
    if (have_frame_) broken_ = true;
    finish(out);
    waiting_for_key_ = true;
  }
  started_ = true;
  expected_sequence_ = static_cast<std::uint16_t>(p.header.sequence + 1);
  if (have_frame_ && p.header.timestamp != frame_timestamp_) finish(out);  // its marker was lost
  const auto d = read_descriptor(p.payload);
  if (!d) {
    ++counters_.malformed;
    if (have_frame_) broken_ = true;
    return;
  }
  const auto data = p.payload.subspan(d->size);
  if (d->start && d->partition == 0) {
    if (have_frame_) {  // a new frame at the same timestamp: the previous one never ended
      broken_ = true;
      finish(out);
    }
    have_frame_ = true;
    frame_timestamp_ = p.header.timestamp;
  } else if (!have_frame_) {
    // The rest of a frame whose start was never seen (joined there, or lost): counted once, at
    // its end.
    if (p.header.marker) ++counters_.dropped_frames;
    return;
  }
  if (data_.size() + data.size() > max_frame_) broken_ = true;
  else if (!broken_) data_.insert(data_.end(), data.begin(), data.end());
  if (p.header.marker) finish(out);
}

void rtp_depacketizer::flush(std::vector<frame>& out) { finish(out); }

}  // namespace junction::media::vp8
