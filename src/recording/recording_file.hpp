#pragma once
// One FLV recording on disk, written from a transcode worker so that the media path never waits
// on the disk. Tags are appended as they come and reach the file at least once a second (and
// whenever 256 KiB are waiting), so a killed process leaves a file that players read up to its
// last second; closing writes the final onMetaData (duration, keyframe index) over the
// placeholder at the start. Appending to an existing recording continues its timeline after the
// last tag already there (and leaves its onMetaData as it was).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/flv_file_writer.hpp"
#include "media/frame.hpp"

namespace junction::recording {

class recording_file {
 public:
  // Nothing (and `error` says why) when the file cannot be opened. A new file (append false)
  // never replaces one: EEXIST in errno, and the caller picks another name.
  static std::unique_ptr<recording_file> open(const std::string& path, bool audio, bool video, bool append,
                                              std::string* error = nullptr);
  ~recording_file();
  recording_file(const recording_file&) = delete;
  recording_file& operator=(const recording_file&) = delete;

  void write(const media::frame& f);
  // Writes what waits if a second has passed since the last write to the file.
  void flush_if_due();
  void flush();
  // Flushes, writes the final onMetaData, closes. Also done by the destructor.
  void close();

  std::uint64_t size() const noexcept { return size_; }
  // Milliseconds from the first frame to the last (an appended file: the whole file's).
  std::uint32_t duration_ms() const noexcept { return last_ms_; }

 private:
  recording_file(int fd, bool audio, bool video, bool append, std::uint32_t offset_ms, std::uint64_t size);
  int fd_;
  media::flv::file_writer writer_;
  bool append_;
  std::uint32_t offset_ms_;  // appending: the timeline continues after the file's last tag
  std::optional<std::uint32_t> first_ms_;
  std::uint32_t last_ms_ = 0;
  std::uint64_t size_ = 0;
  std::vector<std::byte> pending_;
  std::chrono::steady_clock::time_point last_flush_;
};

// The timestamp of an FLV file's last complete tag (found from the end through the
// PreviousTagSize fields), or nothing for a file without tags or not FLV.
std::optional<std::uint32_t> flv_last_timestamp(const std::string& path);

}  // namespace junction::recording
