#pragma once
// Maps a path to a handler: exact paths, suffixes ("*.flv": any path ending in ".flv"), or
// prefixes ending in '/', in that order of preference. A route names the methods it
// takes (others get 405 with Allow) and whether it is an admin route.
#include "http/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace junction::http {

class request_context;

using sync_handler = std::function<reply(request_context&)>;
using async_handler = std::function<boost::asio::awaitable<reply>(request_context&)>;

// PATCH: WHIP and WHEP sessions take trickled ICE candidates and ICE restarts (RFC 9725 §4.3).
enum method : unsigned { GET = 1, HEAD = 2, POST = 4, PUT = 8, DELETE = 16, PATCH = 32 };
unsigned method_bit(verb v);
std::string allow_header(unsigned methods);

struct route {
  std::string path;  // exact; a suffix when it starts with '*'; a prefix when it ends in '/'
  unsigned methods;
  bool admin;        // reveals users or changes state: needs the admin token (or loopback)
  std::variant<sync_handler, async_handler> handler;
  std::size_t body_limit = 0;  // the largest request body it takes; 0: http.body_limit
  // Open to pages of any origin (CORS): a preflight OPTIONS is answered with the route's
  // methods, and every reply says Access-Control-Allow-Origin: *. Only for routes that need
  // no cookie or token (a signed URL, public media), never for admin routes.
  bool cross_origin = false;
};

class router {
 public:
  void add(route r);
  // The exact route for `path`, else the longest prefix route, else a suffix route, else nullptr.
  const route* match(std::string_view path) const;
  // Every route, in the order added (GET /api/v1/routes lists them; the tests walk them).
  const std::vector<route>& all() const noexcept { return routes_; }
  // The largest body_limit of any route (0: none has one).
  std::size_t largest_body_limit() const noexcept { return largest_body_limit_; }

 private:
  std::vector<route> routes_;
  std::size_t largest_body_limit_ = 0;
};

}  // namespace junction::http
