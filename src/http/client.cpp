#include "http/client.hpp"

#include "core/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace junction::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

asio::awaitable<client_response> post_json(const std::string& url, std::string json,
                                           std::chrono::milliseconds timeout) {
  // Named, not a temporary in the co_await expression (GCC 12 destroys those twice).
  std::string body = std::move(json);
  co_return co_await send_request("POST", url, "application/json", std::move(body), timeout);
}

asio::awaitable<client_response> send_request(const char* method, const std::string& url, const char* content_type,
                                         std::string body, std::chrono::milliseconds timeout) {
  client_response out;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || !parsed->has_authority()) {
    out.error = "not an http:// URL: " + url;
    co_return out;
  }
  // Everything the request needs of `url` is copied before the first suspension: the caller's
  // string need not outlive the exchange.
  const std::string host = parsed->host_address();  // without IPv6 brackets
  const std::string host_and_port{parsed->encoded_host_and_port()};
  const std::string port = parsed->has_port() ? std::string{parsed->port()} : "80";
  std::string target = parsed->encoded_path().empty() ? "/" : std::string{parsed->encoded_path()};
  if (parsed->has_query()) target += "?" + std::string{parsed->encoded_query()};

  constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver{executor};
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, no_throw);
  if (rec) {
    out.error = "cannot resolve " + host + ": " + rec.message();
    co_return out;
  }
  beast::tcp_stream stream{executor};
  stream.expires_after(timeout);
  auto [cec, ep] = co_await stream.async_connect(endpoints, no_throw);
  if (cec) {
    out.error = "cannot connect to " + host + ":" + port + ": " + cec.message();
    co_return out;
  }
  beast::http::request<beast::http::string_body> req{beast::http::string_to_verb(method), target, 11};
  req.set(beast::http::field::host, host_and_port);
  req.set(beast::http::field::user_agent, "junction/" JUNCTION_VERSION);
  if (content_type && *content_type) req.set(beast::http::field::content_type, content_type);
  req.set(beast::http::field::connection, "close");
  req.body() = std::move(body);
  req.prepare_payload();
  auto [wec, wn] = co_await beast::http::async_write(stream, req, no_throw);
  if (wec) {
    out.error = "request failed: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [hec, hn] = co_await beast::http::async_read(stream, buffer, parser, no_throw);
  if (hec) {
    out.error = hec == beast::error::timeout ? "no answer in time" : "bad answer: " + hec.message();
    co_return out;
  }
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  if (auto it = parser.get().find(beast::http::field::location); it != parser.get().end())
    out.location = std::string{it->value()};
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  co_return out;
}

}  // namespace junction::http
