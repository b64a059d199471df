#include "junction-load/flv_file_source.hpp"

#include "media/flv_reader.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

namespace junction::load {

namespace {

std::optional<flv_file> fail(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

// A file's script tag is "onMetaData" + object; a publisher sends it behind "@setDataFrame" so
// that servers keep it as the stream's metadata (FFmpeg and OBS do the same).
media::frame as_set_data_frame(const media::frame& f) {
  constexpr unsigned char on_metadata[] = {0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
  constexpr unsigned char set_data_frame[] = {0x02, 0x00, 0x0D, '@', 's', 'e', 't', 'D', 'a',
                                              't',  'a',  'F',  'r', 'a', 'm', 'e'};
  const auto body = f.payload.bytes();
  if (body.size() < sizeof on_metadata || std::memcmp(body.data(), on_metadata, sizeof on_metadata) != 0)
    return f;
  auto wrapped = shared_buffer::build(sizeof set_data_frame + body.size(), [&](std::span<std::byte> out) {
    std::memcpy(out.data(), set_data_frame, sizeof set_data_frame);
    std::memcpy(out.data() + sizeof set_data_frame, body.data(), body.size());
  });
  return media::make_frame(media::track::data, f.timestamp, std::move(wrapped));
}

}  // namespace

bool counted_media(const media::frame& f) noexcept {
  return (f.is_audio() || f.is_video()) && !f.config;
}

std::optional<flv_file> parse_flv_file(std::span<const std::byte> bytes, std::string* why) {
  media::flv::reader reader;
  std::vector<media::frame> frames;
  auto r = reader.feed(bytes, frames);
  if (r.error) return fail(why, r.error.message());
  if (!reader.header_done()) return fail(why, "too short for an FLV file");

  flv_file file;
  auto first_media = std::ranges::find_if(frames, counted_media);
  if (first_media == frames.end()) return fail(why, "no audio or video frames");
  for (auto it = frames.begin(); it != first_media; ++it)
    file.header.push_back(it->track == media::track::data ? as_set_data_frame(*it) : *it);
  file.body.assign(first_media, frames.end());
  file.first_timestamp = first_media->timestamp;

  std::uint32_t last = file.first_timestamp, first_video = 0, last_video = 0;
  for (const auto& f : file.body) {
    last = std::max(last, f.timestamp);
    if (!counted_media(f)) continue;
    if (f.is_video()) {
      if (file.video_frames++ == 0) first_video = f.timestamp;
      last_video = f.timestamp;
    } else {
      ++file.audio_frames;
    }
  }
  // One frame interval after the last frame before the loop starts again: the video's average
  // interval, else 23 ms (an AAC frame at 44.1 kHz).
  std::uint32_t interval = 23;
  if (file.video_frames > 1 && last_video > first_video)
    interval = std::max<std::uint32_t>(1, (last_video - first_video) / static_cast<std::uint32_t>(file.video_frames - 1));
  file.loop_ms = (last - file.first_timestamp) + interval;
  return file;
}

std::optional<flv_file> load_flv_file(const std::string& path, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(why, "cannot open " + path);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (in.bad()) return fail(why, "cannot read " + path);
  std::string reason;
  auto file = parse_flv_file(std::as_bytes(std::span{bytes}), &reason);
  if (!file) return fail(why, path + ": " + reason);
  return file;
}

flv_file_source::flv_file_source(std::shared_ptr<const flv_file> file, frame_index* index)
    : file_{std::move(file)}, index_{index} {}

std::vector<media::frame> flv_file_source::header_frames() { return file_->header; }

std::uint64_t flv_file_source::due_ms(const media::frame& f) const noexcept {
  // A frame stamped before the body's first one (files are not always monotonic) is due at once.
  const std::uint32_t offset = f.timestamp >= file_->first_timestamp ? f.timestamp - file_->first_timestamp : 0;
  return loop_base_ + offset;
}

std::chrono::nanoseconds flv_file_source::take_due(std::chrono::nanoseconds elapsed, std::int64_t now_ns,
                                                   std::vector<media::frame>& out) {
  for (;;) {
    const media::frame& f = file_->body[next_];
    const std::uint64_t due = due_ms(f);
    const std::chrono::nanoseconds at = std::chrono::milliseconds{due};
    if (at > elapsed) return at;
    media::frame sent = f;
    sent.timestamp = static_cast<std::uint32_t>(due);  // RTMP time wraps at 2^32 ms, as it must
    if (counted_media(sent)) {
      auto& count = sent.is_audio() ? audio_count_ : video_count_;
      if (index_) index_->record(sent.track, count, sent.timestamp, now_ns);
      ++count;
    }
    out.push_back(std::move(sent));
    if (++next_ == file_->body.size()) {
      next_ = 0;
      loop_base_ += file_->loop_ms;
    }
  }
}

}  // namespace junction::load
