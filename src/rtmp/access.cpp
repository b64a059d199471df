#include "rtmp/access.hpp"

#include <openssl/crypto.h>

#include "core/connection.hpp"
#include "http/request_context.hpp"
#include "rtmp/hooks.hpp"
#include "rtmp/server.hpp"

namespace junction::rtmp {

bool same_token(const std::string& wanted, std::string_view given) {
  return wanted.empty() ||
         (given.size() == wanted.size() && CRYPTO_memcmp(given.data(), wanted.data(), wanted.size()) == 0);
}

bool token_ok(const std::string& wanted, std::string_view stream_query, std::string_view tc_query) {
  return wanted.empty() || same_token(wanted, query_value(stream_query, "token")) ||
         same_token(wanted, query_value(tc_query, "token"));
}

boost::asio::awaitable<const char*> http_refusal(const app_policy& app, bool publish, const http::request_context& ctx,
                                                 std::string_view token, std::string_view app_name,
                                                 std::string_view name, std::string_view protocol) {
  const auto& a = app.config;
  if (!allowed(publish ? app.publish_from : app.play_from, ctx.peer))
    co_return publish ? "address not allowed to publish" : "address not allowed to play";
  if (!same_token(publish ? a.publish_token : a.play_token, token)) co_return "missing or wrong token";
  const auto& hook = publish ? a.on_publish : a.on_play;
  if (hook.empty()) co_return nullptr;
  hook_client who{ctx.conn.id(), ctx.peer.to_string(), ctx.conn.peer(), std::string{app_name}, {}, std::string{protocol}};
  if (!co_await ask_hook(hook, publish ? "on_publish" : "on_play", who, name, ctx.query, a.hook_timeout))
    co_return publish ? "refused by the on_publish hook" : "refused by the on_play hook";
  co_return nullptr;
}

const char* vod_refusal(const std::string& admin_token, bool authorized_by_app, bool loopback_client,
                        std::string_view stream_query, std::string_view tc_query) {
  if (authorized_by_app) return nullptr;
  if (admin_token.empty())
    return loopback_client ? nullptr : "recordings play only to loopback clients until http.admin_token is set";
  return token_ok(admin_token, stream_query, tc_query) ? nullptr : "recordings need the admin token (token=...)";
}

}  // namespace junction::rtmp
