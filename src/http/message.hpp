#pragma once
// The HTTP message types every handler sees, and the reply a handler returns.
#include "core/shared_buffer.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/string_body.hpp>

namespace junction::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using status = beast_http::status;
using verb = beast_http::verb;
using field = beast_http::field;

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
};

}  // namespace junction::http
