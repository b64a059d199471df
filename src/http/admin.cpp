#include "http/admin.hpp"

#include "core/ascii.hpp"
#include "core/shard.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"

#include <openssl/crypto.h>

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace junction::http {
namespace {

bool token_matches(std::string_view presented, const std::string& token) {
  // Constant-time compare, so response timing does not reveal how much of a guess was right.
  return presented.size() == token.size() &&
         CRYPTO_memcmp(presented.data(), token.data(), token.size()) == 0;
}

// "localhost", "127.x.y.z" or "[::1]", with or without a port.
bool loopback_host(std::string_view host) {
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    auto rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() < 2)) return false;
    host = host.substr(1, close - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.ends_with('.')) host.remove_suffix(1);
  if (iequals(host, "localhost")) return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string{host}, ec);
  return !ec && address.is_loopback();
}

// "scheme://host[:port]": the host part, compared with the Host header as given.
std::string_view origin_authority(std::string_view origin) {
  auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  return origin.substr(scheme + 3);
}

bool json_content(const request& req) {
  auto it = req.find(field::content_type);
  if (it == req.end()) return false;
  std::string_view type = it->value();
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return iequals(type, "application/json");
}

// Without a token the only proof of an operator is being on this machine, and a browser on this
// machine can be made to send requests by any site it visits: through DNS rebinding (a foreign
// name resolving to 127.0.0.1, so a foreign Host), or through a cross-site form (a foreign Origin,
// or a text/plain body that needs no preflight). Each is refused with what it was.
std::optional<std::string_view> local_browser_attack(const request& req) {
  if (!loopback_host(req[field::host]))
    return "admin endpoints without http.admin_token need a loopback Host (localhost, 127.0.0.1, [::1])";
  if (auto it = req.find(field::origin); it != req.end()) {
    std::string_view authority = origin_authority(it->value());
    if (authority.empty() || !iequals(authority, req[field::host]))
      return "admin endpoints without http.admin_token refuse cross-origin requests";
  }
  if (iequals(req["Sec-Fetch-Site"], "cross-site"))
    return "admin endpoints without http.admin_token refuse cross-site requests";
  // A cross-site form can POST (with any body, or none) without a preflight; PUT and PATCH need
  // one, which no admin route answers, but their bodies are held to the same type.
  const auto method = req.method();
  const bool body = !req.body().empty() || (req.has_content_length() && req[field::content_length] != "0");
  if ((method == verb::post || ((method == verb::put || method == verb::patch) && body)) && !json_content(req))
    return "admin requests that change state need Content-Type: application/json";
  return std::nullopt;
}

}  // namespace

std::optional<reply> check_admin(request_context& ctx, const std::string& token) {
  if (token.empty()) {
    if (!ctx.peer.is_loopback())
      return ctx.problem(status::forbidden,
                         "admin endpoints answer only on loopback until http.admin_token is set");
    if (auto attack = local_browser_attack(ctx.req)) {
      ctx.home().metrics().add(ctx.srv.metrics().auth_failures);
      return ctx.problem(status::forbidden, *attack);
    }
    return std::nullopt;
  }
  std::string_view presented;
  if (auto it = ctx.req.find(field::authorization); it != ctx.req.end()) {
    std::string_view value = it->value();
    // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
    constexpr std::string_view scheme = "bearer ";
    if (value.size() > scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), value.begin(),
                   [](char a, char b) { return a == (b | 0x20); }))
      presented = value.substr(scheme.size());
  }
  if (!presented.empty() && token_matches(presented, token)) return std::nullopt;
  ctx.home().metrics().add(ctx.srv.metrics().auth_failures);
  beast_http::response<beast_http::string_body> r{
      status::unauthorized, ctx.req.version(),
      "401 Unauthorized: a valid admin bearer token is required\n"};
  r.set(field::www_authenticate, "Bearer realm=\"junction\"");
  r.set(field::content_type, "text/plain; charset=utf-8");
  return ctx.respond(std::move(r));
}

}  // namespace junction::http
