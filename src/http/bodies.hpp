#pragma once
// Two Beast Body types for files: one sends a slice of a shared, cached buffer without copying;
// the other reads a slice of an open file in 64 KiB steps (for files too big to cache).
#include "core/shared_buffer.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/file_posix.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <cstdint>
#include <utility>

namespace junction::http {

struct shared_buffer_body {
  struct value_type {
    shared_buffer bytes;
    std::size_t offset = 0;
    std::size_t length = 0;
  };
  static std::uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool is_request, class Fields>
    writer(const boost::beast::http::header<is_request, Fields>&, const value_type& v) : v_{v} {}
    void init(boost::beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      return {{boost::asio::const_buffer{v_.bytes.data() + v_.offset, v_.length}, false}};
    }

   private:
    const value_type& v_;
  };
};

struct file_range_body {
  struct value_type {
    boost::beast::file_posix file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  static std::uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool is_request, class Fields>
    writer(const boost::beast::http::header<is_request, Fields>&, value_type& v) : v_{v} {}
    void init(boost::beast::error_code& ec) {
      ec = {};
      position_ = v_.offset;
      remaining_ = v_.length;
    }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec);

   private:
    value_type& v_;
    std::uint64_t position_ = 0, remaining_ = 0;
    char chunk_[64 * 1024];
  };
};

}  // namespace junction::http
