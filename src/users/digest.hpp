#pragma once
// The arithmetic of HTTP/SIP Digest authentication: RFC 7616 §3.4.1–3.4.3 as SIP uses it
// (RFC 3261 §22.4, and RFC 8760 for SHA-256). Pure functions over strings; the hashing goes
// through OpenSSL's EVP interface. Only qop=auth and the qop-less RFC 2069 form are computed:
// auth-int would need the message body, and the -sess variants a per-session HA1, neither of
// which SIP clients use in practice.
#include <optional>
#include <string>
#include <string_view>

namespace junction::users {

enum class digest_algorithm { md5, sha256 };

// The wire names: "MD5" and "SHA-256" (RFC 7616 §3.4, RFC 8760 §2.1).
std::string_view algorithm_name(digest_algorithm alg) noexcept;

// Case-insensitive. An empty name is MD5: RFC 7616 §3.4 says an absent algorithm parameter
// means MD5. Anything else ("SHA-512-256", "MD5-sess", ...) is unsupported.
std::optional<digest_algorithm> parse_algorithm(std::string_view name) noexcept;

// The two protections this code can verify. `none` is RFC 2069 compatibility: a response
// without qop, nc and cnonce (RFC 3261 §22.4 still requires servers to accept it).
enum class digest_qop { none, auth };

// "" -> none, "auth" -> auth; anything else ("auth-int", a list) is unsupported.
std::optional<digest_qop> parse_qop(std::string_view qop) noexcept;

// H(data) as lowercase hex. Throws std::runtime_error only when the OpenSSL build cannot
// compute the algorithm at all (MD5 under a FIPS-only provider): a deployment error no peer
// can cause, so it must not be mistaken for a failed login.
std::string hex_digest(digest_algorithm alg, std::string_view data);

// HA1 = H(username ":" realm ":" password), lowercase hex (RFC 7616 §3.4.2). What the user
// store keeps instead of the password.
std::string ha1(digest_algorithm alg, std::string_view username, std::string_view realm,
                std::string_view password);

// The request-digest a client must send (RFC 7616 §3.4.1), lowercase hex:
//   qop=auth: H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" HA2)
//   no qop:   H(HA1 ":" nonce ":" HA2)                (RFC 2069; nc and cnonce are ignored)
// with HA2 = H(method ":" uri). `ha1_hex` must come from `ha1` with the same algorithm; `nc`
// and `cnonce` are taken exactly as the client sent them, since they are hashed as text.
std::string response(digest_algorithm alg, std::string_view ha1_hex, std::string_view nonce,
                     std::string_view nc, std::string_view cnonce, digest_qop qop,
                     std::string_view method, std::string_view uri);

// Compares a hex digest the client sent with the one computed here without an early exit, so
// the time taken does not tell an attacker how many leading characters were right. Hex letters
// match in either case (some clients send uppercase). Different lengths, empty strings and
// non-hex characters compare unequal; those reveal nothing about the secret.
bool hex_equal_constant_time(std::string_view expected, std::string_view received) noexcept;

}  // namespace junction::users
