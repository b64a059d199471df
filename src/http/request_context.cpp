#include "http/request_context.hpp"

#include "core/connection.hpp"
#include "core/shard.hpp"
#include "core/version.hpp"
#include "http/http_date.hpp"

namespace junction::http {

const char* const server_header = "junction/" JUNCTION_VERSION;

request_context::request_context(const request& r, const boost::asio::ip::address& p,
                                 connection& c, server& s)
    : req{r}, peer{p}, conn{c}, srv{s} {
  std::string_view target = req.target();
  auto q = target.find('?');
  path = target.substr(0, q);
  if (q != std::string_view::npos) query = target.substr(q + 1);
}

shard& request_context::home() const { return conn.home(); }
bool request_context::draining() const { return conn.home().draining(); }

reply request_context::text(status code, std::string body, std::string_view content_type) const {
  beast_http::response<beast_http::string_body> r{code, req.version(), std::move(body)};
  r.set(field::content_type, content_type);
  return respond(std::move(r));
}

reply request_context::json(status code, std::string body) const {
  body += '\n';
  return text(code, std::move(body), "application/json");
}

reply request_context::problem(status code, std::string_view detail) const {
  std::string body = std::to_string(static_cast<unsigned>(code)) + " ";
  body += beast_http::obsolete_reason(code);
  if (!detail.empty()) {
    body += ": ";
    body += detail;
  }
  body += '\n';
  auto r = text(code, std::move(body));
  return r;
}

}  // namespace junction::http
