#include "users/hmac.hpp"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <string>

namespace junction::users {

namespace {

using mac_ctx = std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)>;

// A context keyed once per thread and key: the server's keys are few (the nonce secret, the
// Record-Route mark secret) and live as long as the process, and a keyed context answers
// EVP_MAC_init without a key by starting again with the one it has. Making a context per message
// fetched SHA-256 and hashed the key each time: 9 % of a proxied call's CPU.
struct keyed {
  std::string key;
  mac_ctx ctx{nullptr, &EVP_MAC_CTX_free};
};

EVP_MAC_CTX* keyed_context(std::string_view key) noexcept {
  // Fetched once: a provider lookup per message would take a global lock for nothing.
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!hmac) return nullptr;
  thread_local std::array<keyed, 4> cache;
  thread_local std::size_t next = 0;
  for (auto& k : cache)
    if (k.ctx && k.key == key) return EVP_MAC_init(k.ctx.get(), nullptr, 0, nullptr) == 1 ? k.ctx.get() : nullptr;
  mac_ctx ctx(EVP_MAC_CTX_new(hmac), &EVP_MAC_CTX_free);
  if (!ctx) return nullptr;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  // HMAC accepts an empty key, but OpenSSL wants a non-null pointer for it.
  static const unsigned char empty_key = 0;
  const auto* k = key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), k, key.size(), params) != 1) return nullptr;
  auto& slot = cache[next++ % cache.size()];  // a fifth key pushes out the oldest
  try {
    slot.key.assign(key);
  } catch (...) {
    return nullptr;
  }
  slot.ctx = std::move(ctx);
  return slot.ctx.get();
}

}  // namespace

bool hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts,
                 sha256_mac& out) noexcept {
  EVP_MAC_CTX* ctx = keyed_context(key);
  if (!ctx) return false;
  for (auto part : parts)
    if (!part.empty() &&
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) != 1)
      return false;
  std::size_t length = 0;
  return EVP_MAC_final(ctx, out.data(), &length, out.size()) == 1 && length == out.size();
}

}  // namespace junction::users
