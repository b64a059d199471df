#pragma once
// Writing FLV files for recordings (Adobe FLV spec v10.1): the header, the frames as tags with
// timestamps from 0, and an onMetaData that players seek with. The keyframe index is only known
// when the recording ends, and players read onMetaData first, so the writer reserves room for it
// at the start (a placeholder script tag, padded) and hands back the final one to be written
// over it: duration, file size, data rates, what the source said of itself (width, height,
// codecs) and `keyframes` {filepositions, times}, the index ffmpeg, VLC and flash players use.
// Sans-IO: bytes out, the caller owns the file.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/shared_buffer.hpp"
#include "media/frame.hpp"

namespace junction::media::flv {

struct file_patch {
  std::uint64_t offset = 0;  // where the placeholder starts
  std::vector<std::byte> bytes;  // exactly as long as the placeholder
};

class file_writer {
 public:
  struct settings {
    // Room for onMetaData: about 18 bytes per keyframe, so 64 KiB indexes some 3,500 keyframes
    // (two hours at one every two seconds); an index that does not fit is thinned evenly.
    std::size_t metadata_reserve = 64 * 1024;
  };
  explicit file_writer(bool audio, bool video) : file_writer(audio, video, settings{}) {}
  file_writer(bool audio, bool video, settings s);

  // The file's first bytes: header and the placeholder onMetaData.
  std::vector<std::byte> begin();
  // One frame as a tag. Script frames (the source's own metadata) are not written: their
  // properties go into the final onMetaData.
  shared_buffer write(const frame& f);
  // The final onMetaData, to be written over the placeholder.
  file_patch finish();

  std::uint64_t size() const noexcept { return position_; }
  std::size_t keyframes() const noexcept { return keyframe_times_.size(); }

 private:
  std::vector<std::byte> metadata(bool final) const;

  bool audio_, video_;
  settings s_;
  std::uint64_t position_ = 0;
  std::uint64_t metadata_offset_ = 0;
  bool started_ = false;
  std::uint32_t first_timestamp_ = 0, last_timestamp_ = 0;
  std::uint64_t audio_bytes_ = 0, video_bytes_ = 0;
  media::codec audio_codec_ = media::codec::unknown, video_codec_ = media::codec::unknown;
  shared_buffer source_metadata_;  // the source's last onMetaData, as its AMF0 bytes
  std::vector<double> keyframe_times_, keyframe_positions_;
};

}  // namespace junction::media::flv
