#pragma once
// HMAC-SHA256 over a message given in parts, for the server's own tokens (digest nonces, SIP
// Record-Route marks). Fed piecewise, so a check allocates nothing of its own.
#include <array>
#include <initializer_list>
#include <string_view>

namespace junction::users {

using sha256_mac = std::array<unsigned char, 32>;

// False only if OpenSSL fails (then `out` is unspecified).
bool hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts,
                 sha256_mac& out) noexcept;

}  // namespace junction::users
