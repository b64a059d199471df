#pragma once
// Stateless digest nonces (RFC 7616 §3.3 leaves the nonce's construction to the server):
//
//   nonce = base64url( timestamp || HMAC-SHA256(secret, timestamp || realm)[0..16) )
//
// with `timestamp` the issue time in seconds since the epoch as 8 big-endian bytes. The server
// keeps no table of issued nonces: the MAC proves it issued the nonce, for this realm, at that
// time, and the age decides between fresh and stale. 24 bytes encode to exactly 32 characters
// from [A-Za-z0-9_-], which need no escaping inside a quoted-string.
//
// What this does not give: replay protection within the lifetime (that needs per-nonce nc
// tracking, which is state). Keep the lifetime short. The caller passes the time in; nothing
// here reads a clock.
#include <chrono>
#include <string>
#include <string_view>

namespace junction::users {

enum class nonce_status {
  ok,     // issued by us, for this realm, within the lifetime
  stale,  // issued by us for this realm, but too old (or too far ahead of our clock): the
          // caller verifies the response and, if it is right, challenges again with stale=true
          // so the client retries without asking its user (RFC 7616 §3.3)
  bad,    // not one of ours: malformed, wrong length, forged, or minted for another realm
};

// How far ahead of `now` a nonce's timestamp may be and still count as fresh: the clocks of
// servers that share a secret never agree exactly.
inline constexpr std::chrono::seconds nonce_clock_skew{30};

// 32 bytes from OpenSSL's CSPRNG, for a server that has no configured secret. Nonces made with
// it stop verifying when the process restarts, which costs clients one extra stale challenge.
// Throws std::runtime_error if the CSPRNG cannot be seeded.
std::string make_nonce_secret();

// `secret` is raw bytes (at least 16 random ones); `realm` is the realm the challenge names.
std::string make_nonce(std::string_view secret, std::string_view realm,
                       std::chrono::sys_seconds now);

nonce_status check_nonce(std::string_view secret, std::string_view realm, std::string_view nonce,
                         std::chrono::sys_seconds now, std::chrono::seconds lifetime) noexcept;

}  // namespace junction::users
