#pragma once
// Publishing an FLV file's frames unchanged, looped at real time. The file is read and parsed
// once, before the run, and shared read-only by every publisher (frames are immutable).
//
// Each loop's timestamps continue after the previous loop's (a loop lasts the file's span plus
// one frame interval), so players and servers see one stream whose time only moves forward.
// Decoder configuration and metadata at the head of the file go out once, first; frames
// carry no stamp, so each one sent is recorded in the stream's frame_index for the players.
#include "junction-load/frame_index.hpp"
#include "junction-load/frame_source.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace junction::load {

struct flv_file {
  std::vector<media::frame> header;  // metadata and sequence headers before the first media frame
  std::vector<media::frame> body;    // everything after, in file order
  std::uint32_t first_timestamp = 0; // of the body
  std::uint32_t loop_ms = 0;         // one loop: the body's span plus one frame interval
  std::size_t video_frames = 0, audio_frames = 0;  // media frames in the body, config excluded
};

// nullopt with a reason in *why when the bytes are not an FLV file with audio or video.
std::optional<flv_file> parse_flv_file(std::span<const std::byte> bytes, std::string* why);
// Reads the whole file (at start-up, never on an event loop), then parses it.
std::optional<flv_file> load_flv_file(const std::string& path, std::string* why);

// Audio and video frames that players count: not sequence headers, not script data.
bool counted_media(const media::frame& f) noexcept;

class flv_file_source final : public frame_source {
 public:
  // `index` may be null (nobody checks the frames).
  flv_file_source(std::shared_ptr<const flv_file> file, frame_index* index);

  std::vector<media::frame> header_frames() override;
  std::chrono::nanoseconds take_due(std::chrono::nanoseconds elapsed, std::int64_t now_ns,
                                    std::vector<media::frame>& out) override;

 private:
  std::uint64_t due_ms(const media::frame& f) const noexcept;

  std::shared_ptr<const flv_file> file_;
  frame_index* index_;
  std::size_t next_ = 0;       // position in file_->body
  std::uint64_t loop_base_ = 0;  // milliseconds added to this loop's timestamps
  std::uint32_t audio_count_ = 0, video_count_ = 0;
};

}  // namespace junction::load
