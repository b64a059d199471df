#pragma once
// A minimal HTTP/1.1 client for outgoing notifications (RTMP on_* hooks and the like) and load
// generators (WHEP offers): one request per connection, a whole-exchange deadline, http:// URLs
// only.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace junction::http {

struct client_response {
  unsigned status = 0;  // 0: no answer (connection failed, timed out, malformed URL)
  std::string body;
  std::string location;  // the Location header, when the answer has one
  std::string error;    // why there is no answer
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

// One request: `method` ("POST", "DELETE", ...) with `body` of `content_type` (none when
// empty; both literals, or strings that outlive the request; `url` is read before the first
// suspension only). Never throws for network failures.
boost::asio::awaitable<client_response> send_request(const char* method, const std::string& url, const char* content_type,
                                                std::string body, std::chrono::milliseconds timeout);

// POSTs `json` with Content-Type application/json.
boost::asio::awaitable<client_response> post_json(const std::string& url, std::string json,
                                                  std::chrono::milliseconds timeout);

}  // namespace junction::http
