#include "users/hmac.hpp"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace junction::users {

bool hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts,
                 sha256_mac& out) noexcept {
  // Fetched once: a provider lookup per message would take a global lock for nothing. Kept for
  // the life of the process.
  static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!hmac) return false;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(hmac),
                                                                &EVP_MAC_CTX_free);
  if (!ctx) return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  // HMAC accepts an empty key, but OpenSSL wants a non-null pointer for it.
  static const unsigned char empty_key = 0;
  const auto* k = key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), k, key.size(), params) != 1) return false;
  for (auto part : parts)
    if (!part.empty() &&
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size()) != 1)
      return false;
  std::size_t length = 0;
  return EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) == 1 && length == out.size();
}

}  // namespace junction::users
