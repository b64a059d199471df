#pragma once
// Digest authentication of SIP requests (RFC 3261 §22.4 with RFC 8760's SHA-256): decides,
// from a request's Authorization headers and the user's stored HA1s, whether the request is
// authenticated, and otherwise what challenge to send. Pure: the user lookup and the time are
// handed in.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "users/digest.hpp"
#include "users/user_store.hpp"

namespace junction::sip {

struct auth_settings {
  std::string nonce_secret;                       // raw bytes, shared by every shard
  std::chrono::seconds nonce_lifetime{300};
  // Offered in this order, one challenge each (RFC 8760 §2.4: most preferred first; clients
  // take the first they support, though some, sipp among them, only ever read the first).
  std::vector<users::digest_algorithm> algorithms{users::digest_algorithm::sha256,
                                                  users::digest_algorithm::md5};
  // Clients that cannot take that list: libre (baresip) aborts on a SHA-256 challenge before
  // 3.12 and on a second challenge for one realm in every version; JsSIP and SIP.js read only
  // the first challenge and take nothing but MD5. A request whose User-Agent contains one of
  // these (any case) gets one MD5 challenge, when MD5 is offered at all.
  std::vector<std::string> md5_only_agents{"baresip", "jssip", "sip.js"};
};

struct auth_verdict {
  enum class kind {
    authenticated,  // the response is right for a fresh nonce
    challenge,      // 401 with `challenges` (no credentials, unknown user, wrong answer, stale)
    forbidden,      // 403: authenticated as somebody who may not act for this AOR
    bad_request,    // 400: credentials that do not parse, or name another request
  };
  kind what = kind::challenge;
  std::vector<std::string> challenges;  // WWW-Authenticate values, SHA-256 first
  std::string_view reason;              // for logs and the status line
  std::string username;                 // who tried (when credentials named somebody)
  users::digest_algorithm algorithm = users::digest_algorithm::md5;  // what the client answered with
};

using user_lookup = std::function<std::optional<users::user_record>(std::string_view user,
                                                                   std::string_view realm)>;

// `realm` is the AOR's domain; only a user of that name in that realm may act for
// `expected_user` (the AOR's user part). A registrar or presence server reads Authorization
// (its challenges go in 401s); a proxy reads Proxy-Authorization (407s, RFC 3261 §22.3).
auth_verdict authenticate(const message& request, std::string_view realm,
                          std::string_view expected_user, const user_lookup& lookup,
                          const auth_settings& settings, std::chrono::sys_seconds now,
                          header_id credentials = header_id::authorization);

}  // namespace junction::sip
