#include "http/admin.hpp"

#include "core/shard.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace junction::http {
namespace {

bool token_matches(std::string_view presented, const std::string& token) {
  // Constant-time compare, so response timing does not reveal how much of a guess was right.
  return presented.size() == token.size() &&
         CRYPTO_memcmp(presented.data(), token.data(), token.size()) == 0;
}

}  // namespace

std::optional<reply> check_admin(request_context& ctx, const std::string& token) {
  if (token.empty()) {
    if (ctx.peer.is_loopback()) return std::nullopt;
    return ctx.problem(status::forbidden,
                       "admin endpoints answer only on loopback until http.admin_token is set");
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
