// Digest credentials parsing on arbitrary bytes. Checks, beyond "no crash": what parses honours
// the limits and the required-parameter rule, and a challenge built from parsed values parses
// back (as far as a challenge can: it lacks the client's parameters) with its values intact.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "users/credentials.hpp"
#include "users/digest.hpp"

using namespace junction::users;

namespace {

bool has_control(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  credentials_limits limits;
  credentials_result r = parse_credentials(bytes, limits);
  if (!r.ok()) {
    if (!r.credentials.username.empty()) std::abort();  // nothing half-parsed leaks out
    return 0;
  }
  const digest_credentials& c = r.credentials;
  for (const std::string* v : {&c.username, &c.realm, &c.nonce, &c.uri, &c.response, &c.algorithm,
                               &c.cnonce, &c.opaque, &c.qop, &c.nc})
    if (v->size() > limits.max_value) std::abort();
  if (c.username.empty() || c.realm.empty() || c.nonce.empty() || c.uri.empty() ||
      c.response.empty())
    std::abort();

  // The verifier's path must not choke on anything the parser lets through.
  if (auto alg = parse_algorithm(c.algorithm)) {
    if (auto qop = parse_qop(c.qop)) {
      std::string expected =
          response(*alg, ha1(*alg, c.username, c.realm, "password"), c.nonce, c.nc, c.cnonce,
                   *qop, "REGISTER", c.uri);
      (void)hex_equal_constant_time(expected, c.response);
    }
  }

  // Tabs and other control characters are dropped by the builder, so only clean values are
  // expected to survive the trip unchanged.
  if (has_control(c.realm) || has_control(c.nonce) || has_control(c.opaque)) return 0;
  std::string challenge = make_challenge({.realm = c.realm, .nonce = c.nonce, .opaque = c.opaque});
  credentials_result back = parse_credentials(
      challenge + R"(, username="u", uri="/", response="0", cnonce="c", nc=00000001)");
  if (!back.ok() || back.credentials.realm != c.realm || back.credentials.nonce != c.nonce ||
      back.credentials.opaque != c.opaque)
    std::abort();
  return 0;
}
