#pragma once
// Files under the web root: GET and HEAD, index files for directories, conditional requests
// (ETag / Last-Modified), one byte range, MIME types by extension, and no way out of the root.
#include "http/message.hpp"

#include <string>

namespace junction::http {

class file_cache;
class request_context;

class static_files {
 public:
  // `mount`: the URL path the root is served under ("/" for the web root; "/recordings/" serves
  // root/x at /recordings/x).
  static_files(std::string root, std::string index, std::string mount = "/");
  bool enabled() const noexcept { return !root_.empty(); }
  const std::string& root() const noexcept { return root_; }
  reply serve(request_context& ctx, file_cache& cache) const;

 private:
  std::string root_;
  std::string index_;
  std::string mount_;
};

}  // namespace junction::http
