#include "recording/recording_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "core/log.hpp"
#include "media/flv.hpp"

namespace junction::recording {
namespace {

constexpr std::size_t flush_bytes = 256 * 1024;
constexpr auto flush_interval = std::chrono::seconds(1);

bool write_all(int fd, const std::byte* data, std::size_t size) {
  while (size) {
    auto n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::uint32_t u24(const std::uint8_t* p) { return std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | p[2]; }

}  // namespace

std::optional<std::uint32_t> flv_last_timestamp(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::uint32_t> result;
  if (::fstat(fd, &st) == 0 && st.st_size > 13 + 11) {
    // Walk back from the end; a torn last tag (the process died mid-write) is skipped by trying
    // a few positions where a PreviousTagSize may end.
    std::uint64_t end = static_cast<std::uint64_t>(st.st_size);
    for (int attempts = 0; attempts < 64 && end > 13 + 11 && !result; ++attempts) {
      std::array<std::uint8_t, 4> prev{};
      if (::pread(fd, prev.data(), 4, static_cast<off_t>(end - 4)) != 4) break;
      const std::uint32_t size = std::uint32_t(prev[0]) << 24 | u24(prev.data() + 1);
      if (size >= 11 && size + 4 <= end - 13) {
        std::array<std::uint8_t, 11> header{};
        const auto at = end - 4 - size;
        if (::pread(fd, header.data(), 11, static_cast<off_t>(at)) == 11 &&
            (header[0] == 8 || header[0] == 9 || header[0] == 18) && u24(header.data() + 1) + 11 == size) {
          result = u24(header.data() + 4) | std::uint32_t(header[7]) << 24;
          break;
        }
      }
      --end;
    }
  }
  ::close(fd);
  return result;
}

std::unique_ptr<recording_file> recording_file::open(const std::string& path, bool audio, bool video, bool append,
                                                     std::string* error) {
  std::uint32_t offset = 0;
  std::uint64_t size = 0;
  const bool asked_to_append = append;
  if (append) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size > 13) {
      if (auto last = flv_last_timestamp(path)) offset = *last + 1;
      size = static_cast<std::uint64_t>(st.st_size);
    } else {
      append = false;  // nothing to append to: a new file
    }
  }
  // A new recording never replaces a file (EEXIST: the caller picks another name); a file to
  // append to that holds no tag yet is started again.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : asked_to_append ? O_TRUNC : O_EXCL);
  // Only the server's user reads recordings (like the user store): others go through the admin
  // API or an authorized VOD play.
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<recording_file> f{new recording_file(fd, audio, video, append, offset, size)};
  if (!append) {
    auto head = f->writer_.begin();
    f->pending_.insert(f->pending_.end(), head.begin(), head.end());
    f->flush();
  }
  return f;
}

recording_file::recording_file(int fd, bool audio, bool video, bool append, std::uint32_t offset_ms,
                               std::uint64_t size)
    : fd_(fd), writer_(audio, video), append_(append), offset_ms_(offset_ms), size_(size),
      last_flush_(std::chrono::steady_clock::now()) {}

recording_file::~recording_file() { close(); }

void recording_file::write(const media::frame& f) {
  if (fd_ < 0) return;
  shared_buffer tag;
  if (append_) {
    // The writer's index would describe offsets it never wrote: tags are made directly, on the
    // file's own timeline.
    if (f.track == media::track::data) return;
    if (!first_ms_) first_ms_ = f.timestamp;
    media::frame moved = f;
    moved.timestamp = offset_ms_ + (f.timestamp - *first_ms_);
    last_ms_ = std::max(last_ms_, moved.timestamp);
    tag = media::flv::tag(moved);
  } else {
    if (f.track != media::track::data) {
      if (!first_ms_) first_ms_ = f.timestamp;
      last_ms_ = std::max(last_ms_, f.timestamp - *first_ms_);
    }
    tag = writer_.write(f);
  }
  auto bytes = tag.bytes();
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  if (pending_.size() >= flush_bytes) flush();
  else flush_if_due();
}

void recording_file::flush_if_due() {
  if (!pending_.empty() && std::chrono::steady_clock::now() - last_flush_ >= flush_interval) flush();
}

void recording_file::flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (fd_ < 0 || pending_.empty()) return;
  if (!write_all(fd_, pending_.data(), pending_.size()))
    log::warn("recording: write failed: {}", std::strerror(errno));
  else
    size_ += pending_.size();
  pending_.clear();
}

void recording_file::close() {
  if (fd_ < 0) return;
  flush();
  if (!append_) {
    auto patch = writer_.finish();
    if (::pwrite(fd_, patch.bytes.data(), patch.bytes.size(), static_cast<off_t>(patch.offset)) < 0)
      log::warn("recording: cannot write the final onMetaData: {}", std::strerror(errno));
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace junction::recording
