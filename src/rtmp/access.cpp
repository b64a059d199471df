#include "rtmp/access.hpp"

#include <openssl/crypto.h>

#include "rtmp/server.hpp"

namespace junction::rtmp {

bool token_ok(const std::string& wanted, std::string_view stream_query, std::string_view tc_query) {
  auto same = [&](std::string_view given) {
    return given.size() == wanted.size() && CRYPTO_memcmp(given.data(), wanted.data(), wanted.size()) == 0;
  };
  return wanted.empty() || same(query_value(stream_query, "token")) || same(query_value(tc_query, "token"));
}

const char* vod_refusal(const std::string& admin_token, bool authorized_by_app, bool loopback_client,
                        std::string_view stream_query, std::string_view tc_query) {
  if (authorized_by_app) return nullptr;
  if (admin_token.empty())
    return loopback_client ? nullptr : "recordings play only to loopback clients until http.admin_token is set";
  return token_ok(admin_token, stream_query, tc_query) ? nullptr : "recordings need the admin token (token=...)";
}

}  // namespace junction::rtmp
