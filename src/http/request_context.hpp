#pragma once
// What a handler gets: the request, who sent it, and helpers that finish a response the same way
// for every handler (version, keep-alive, Server and Date, HEAD without a body).
#include "http/http_date.hpp"
#include "http/message.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>
#include <string_view>

namespace junction {
class connection;
class shard;
}  // namespace junction

namespace junction::http {

class server;

// The Server header's value, "junction/<version>".
extern const char* const server_header;

class request_context {
 public:
  request_context(const request& req, const boost::asio::ip::address& peer, connection& conn,
                  server& srv);

  const request& req;
  std::string_view path;   // the target without its query
  std::string_view query;  // after '?', or empty
  const boost::asio::ip::address& peer;
  connection& conn;
  server& srv;
  shard& home() const;
  bool cross_origin = false;  // the route is open to every origin (router.hpp)

  template <class Body>
  reply respond(beast_http::response<Body>&& response) const {
    response.version(req.version());
    // A draining shard finishes this exchange and closes, so the client reconnects elsewhere.
    response.keep_alive(req.keep_alive() && !draining());
    response.set(field::server, server_header);
    response.set(field::date, http_date_now());
    if (cross_origin) response.set(field::access_control_allow_origin, "*");
    if (req.method() == verb::head) {
      auto length = response.payload_size();
      beast_http::response<beast_http::empty_body> head{std::move(response.base())};
      if (length) head.content_length(*length);
      return reply{std::move(head)};
    }
    response.prepare_payload();
    return reply{std::move(response)};
  }
  reply text(status code, std::string body,
             std::string_view content_type = "text/plain; charset=utf-8") const;
  reply json(status code, std::string body) const;
  // A short plain-text error: "404 Not Found: <detail>".
  reply problem(status code, std::string_view detail = {}) const;

 private:
  bool draining() const;
};

}  // namespace junction::http
