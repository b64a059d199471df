#pragma once
// The HTTP message types every handler sees, and the reply a handler returns.
#include "core/shared_buffer.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <span>

namespace junction {
class connection;
}

namespace junction::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using status = beast_http::status;
using verb = beast_http::verb;
using field = beast_http::field;

// The body of a response that streams for as long as it lasts (HTTP-FLV): the session writes the
// header, then hands the connection to the reply's `stream` function. The body ends when the
// connection closes (no Content-Length, Connection: close), which every HTTP-FLV client expects.
class body_stream {
 public:
  virtual ~body_stream() = default;
  // Writes the buffers in one gathered write. An error ends the response.
  virtual boost::asio::awaitable<boost::system::error_code> write(
      std::span<const shared_buffer> buffers) = 0;
  // Completes when the client closes its side (or sends anything: a player only reads).
  virtual boost::asio::awaitable<void> closed_by_peer() = 0;
  // Ends the response from any coroutine of the session's shard.
  virtual void close() = 0;
  virtual junction::connection& conn() = 0;
};
using stream_function = std::function<boost::asio::awaitable<void>(body_stream&)>;

// A finished response, its concrete body type erased. It keeps what the body refers to alive
// until the session has written it.
struct reply {
  template <class Body>
  explicit reply(beast_http::response<Body>&& r)
      : status_code{r.result_int()},
        body_bytes{r.payload_size().value_or(0)},
        keep_alive{r.keep_alive()},
        message{std::move(r)} {}

  unsigned status_code;
  std::uint64_t body_bytes;
  bool keep_alive;
  beast_http::message_generator message;
  stream_function stream;  // set: `message` is only the header; the body streams from this
};

}  // namespace junction::http
