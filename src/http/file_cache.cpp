#include "http/file_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace junction::http {
namespace {

bool same_file(const struct stat& st, dev_t dev, ino_t ino, off_t size, const timespec& mtime) {
  return st.st_dev == dev && st.st_ino == ino && st.st_size == size &&
         st.st_mtim.tv_sec == mtime.tv_sec && st.st_mtim.tv_nsec == mtime.tv_nsec;
}

std::optional<shared_buffer> read_whole(const std::string& path, std::size_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::vector<std::byte> data(size);
  std::size_t got = 0;
  while (got < size) {
    auto n = ::read(fd, data.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != size) return std::nullopt;
  return shared_buffer::copy_of(std::span<const std::byte>{data});
}

}  // namespace

std::optional<shared_buffer> file_cache::get(const std::string& path, const struct stat& st) {
  auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_file_ || size > max_bytes_) return std::nullopt;
  if (auto it = entries_.find(path); it != entries_.end()) {
    auto& e = it->second;
    if (same_file(st, e.device, e.inode, e.size, e.mtime)) {
      lru_.splice(lru_.begin(), lru_, e.age);
      return e.contents;
    }
    bytes_ -= e.contents.size();
    lru_.erase(e.age);
    entries_.erase(it);
  }
  auto contents = read_whole(path, size);
  if (!contents) return std::nullopt;
  evict_until_fits(size);
  lru_.push_front(path);
  entries_.emplace(path, entry{*contents, st.st_dev, st.st_ino, st.st_size, st.st_mtim,
                               lru_.begin()});
  bytes_ += size;
  return contents;
}

void file_cache::evict_until_fits(std::size_t incoming) {
  while (!lru_.empty() && bytes_ + incoming > max_bytes_) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.contents.size();
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace junction::http
