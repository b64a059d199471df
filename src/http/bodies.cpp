#include "http/bodies.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cerrno>
#include <unistd.h>

namespace junction::http {

boost::optional<std::pair<boost::asio::const_buffer, bool>> file_range_body::writer::get(
    boost::beast::error_code& ec) {
  ec = {};
  if (remaining_ == 0) return boost::none;
  auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, sizeof chunk_));
  // pread on the shard's thread: served files are expected to sit in the page cache. A file
  // that shrank under us ends the response early (the peer sees a short body and retries).
  ssize_t n;
  do n = ::pread(v_.file.native_handle(), chunk_, want, static_cast<off_t>(position_));
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    ec.assign(errno, boost::system::system_category());
    return boost::none;
  }
  if (n == 0) {
    ec = boost::beast::http::error::short_read;
    return boost::none;
  }
  position_ += static_cast<std::uint64_t>(n);
  remaining_ -= static_cast<std::uint64_t>(n);
  return {{boost::asio::const_buffer{chunk_, static_cast<std::size_t>(n)}, remaining_ > 0}};
}

}  // namespace junction::http
