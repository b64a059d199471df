#pragma once
// Small files kept in memory, one cache per shard (no locks). Every lookup re-checks the file's
// identity (device, inode, size, modification time) against a fresh stat, so a changed file is
// never served stale; the cache saves the open/read/close, not the stat.
#include "core/shared_buffer.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

namespace junction::http {

class file_cache {
 public:
  file_cache(std::size_t max_file, std::size_t max_bytes)
      : max_file_{max_file}, max_bytes_{max_bytes} {}

  // The contents of `path`, whose stat is `st`, from memory or read now. nullopt when the file
  // is too large to cache or could not be read.
  std::optional<shared_buffer> get(const std::string& path, const struct stat& st);
  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t entries() const noexcept { return entries_.size(); }

 private:
  struct entry {
    shared_buffer contents;
    dev_t device;
    ino_t inode;
    off_t size;
    struct timespec mtime;
    std::list<std::string>::iterator age;
  };
  void evict_until_fits(std::size_t incoming);

  std::size_t max_file_, max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, entry> entries_;
  std::list<std::string> lru_;  // front: most recently used
};

}  // namespace junction::http
