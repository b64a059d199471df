#pragma once
// The two header values of Digest authentication, without the header names:
//  - parsing what a client sends in Authorization / Proxy-Authorization (RFC 7616 §3.4, the
//    `credentials` rule of RFC 3261 §25), and
//  - building what the server sends in WWW-Authenticate / Proxy-Authenticate (RFC 7616 §3.3,
//    with RFC 8760 §2.4 for SHA-256 in SIP).
// The parser only reads syntax and checks that the parameters a verifier needs are there; it
// does not look at the nonce, the realm or the response (see nonce.hpp and digest.hpp). Errors
// are an error_code category: the parser sits on the request path and never throws.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "users/digest.hpp"

namespace junction::users {

enum class credentials_errc {
  not_digest = 1,   // a well-formed value of another scheme (Basic, Bearer, ...): answer 401
                    // with a fresh Digest challenge rather than 400
  empty,            // nothing, or only whitespace
  malformed,        // not `Digest` + auth-params: a parameter name that is not a token, no '=',
                    // a missing value, junk between parameters, a control character, token68
  unclosed_quote,   // a quoted-string (or a quoted-pair) that never ends
  duplicate_param,  // the same parameter twice (names compare case-insensitively): RFC 7235
                    // §2.1 allows each name once, and two values would make the check ambiguous
  too_many_params,  // more than credentials_limits::max_params
  value_too_long,   // a parameter name or value longer than credentials_limits::max_value
  missing_param,    // username, realm, nonce, uri or response absent, or qop without cnonce/nc
  bad_nonce_count,  // nc is not exactly 8 hex digits (RFC 7616 §3.4: nc-value = 8LHEX)
};

const std::error_category& credentials_category() noexcept;
std::error_code make_error_code(credentials_errc e) noexcept;

// The header value arrives whole from a SIP message that is itself bounded, but a verifier
// hashes and compares these strings, so each is bounded again. No real client comes near:
// a Digest header carries about ten parameters, and the longest value, the uri, is a SIP URI.
struct credentials_limits {
  std::size_t max_params = 32;    // auth-params, unknown ones included
  std::size_t max_value = 1024;   // bytes of one name or one value (after removing quoting)
};

// Values are unquoted and unescaped; a parameter that was absent is empty. Unknown parameters
// (userhash, username*, ...) are skipped as RFC 7616 §3.4 asks, after the duplicate check.
// `algorithm` is kept as sent (empty means MD5): parse_algorithm decides what it names.
struct digest_credentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string algorithm;
  std::string cnonce;
  std::string opaque;
  std::string qop;
  std::string nc;
};

struct credentials_result {
  std::error_code error;           // empty when the value parsed
  digest_credentials credentials;  // meaningful only when ok()
  bool ok() const noexcept { return !error; }
};

// `value` is the field value of one Authorization or Proxy-Authorization header, already
// unfolded (RFC 3261 §7.3.1). Values may be quoted-strings or tokens for every parameter:
// RFC 7616 fixes which form a sender uses, but clients disagree (some quote qop), and the
// form changes nothing a verifier computes.
credentials_result parse_credentials(std::string_view value, const credentials_limits& limits = {});

// One challenge. A server that accepts both algorithms sends one header per algorithm, SHA-256
// first: RFC 8760 §2.4 and RFC 7616 §3.7 have the client use the first one it supports.
struct digest_challenge {
  std::string_view realm{};
  std::string_view nonce{};
  digest_algorithm algorithm = digest_algorithm::sha256;
  bool stale = false;        // the previous nonce was stale but the response was right
  std::string_view opaque{};  // omitted when empty
};

// `Digest realm="...", nonce="...", algorithm=SHA-256, qop="auth"[, stale=true][, opaque="..."]`.
// Quotes and backslashes inside values are escaped; control characters, which no quoted-string
// may carry, are dropped so that a bad realm cannot split the header.
std::string make_challenge(const digest_challenge& challenge);

// The client's side, for a user agent Junction runs itself (the gateway registering and
// calling on a Flash client's behalf).
//
// One WWW-Authenticate / Proxy-Authenticate value as a client reads it: realm and nonce are
// required; algorithm, qop (as offered, maybe a list such as "auth,auth-int") and opaque are
// kept as sent. `stale` is true for "stale=true".
struct challenge_result {
  std::error_code error;
  digest_credentials params;  // realm, nonce, algorithm, qop, opaque
  bool stale = false;
  bool ok() const noexcept { return !error; }
};
challenge_result parse_challenge(std::string_view value, const credentials_limits& limits = {});

// What a client answers a challenge with (RFC 7616 §3.4): the Authorization or
// Proxy-Authorization value. qop=auth is used whenever the challenge offers it.
struct authorization_request {
  std::string_view username{}, password{}, method{}, uri{};
  std::string_view cnonce{};  // the client's nonce (qop=auth)
  std::uint32_t nonce_count = 1;
};
// Empty when the challenge's algorithm or qop is one this code cannot compute.
std::string make_authorization(const digest_credentials& challenge, const authorization_request& request);

}  // namespace junction::users

template <>
struct std::is_error_code_enum<junction::users::credentials_errc> : std::true_type {};
