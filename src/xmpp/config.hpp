#pragma once
// [xmpp]: the XMPP server (docs/xmpp.md): client listeners, the domains it serves, limits.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"
#include "core/endpoint.hpp"
#include "core/tls_options.hpp"

namespace junction {

struct xmpp_config {
  bool enabled = true;
  // Client-to-server streams (RFC 6120), per shard. Loopback by default, like every listener.
  std::vector<listen_address> listen{{"127.0.0.1", 5222}};
  // Direct TLS (XEP-0368), per shard: TLS from the first byte, no STARTTLS.
  std::vector<listen_address> tls_listen;
  // The certificate for STARTTLS on `listen` and for `tls_listen` (PEM). With one, STARTTLS is
  // offered, and required before logging in when `require_tls`; without one, unencrypted
  // streams are accepted from loopback addresses only.
  std::string tls_certificate;
  std::string tls_private_key;
  bool require_tls = true;
  tls_options tls;  // tls_min_version, tls_max_version, tls_ciphers, tls_ciphersuites
  // The domains whose users log in here; empty: sip.domains (one list for both protocols).
  std::vector<std::string> domains;
  std::size_t max_stanza_size = 256 * 1024;   // bytes of one stanza as sent
  std::size_t max_auth_failures = 3;          // per stream, then it is closed
  // Failed logins from one address (and 4x as many for one account) before each further one
  // locks it out, for a delay that doubles up to auth_lockout_max (as sip.auth_failures_allowed).
  unsigned auth_failures_allowed = 5;
  std::chrono::milliseconds auth_lockout_max{std::chrono::minutes(5)};
  // A stream that has not authenticated within this is closed; one silent this long is too.
  std::chrono::milliseconds login_timeout{30000};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
  bool listen_given = false;
  friend bool operator==(const xmpp_config&, const xmpp_config&) = default;
};

void read_config(config_section& s, xmpp_config& out);

}  // namespace junction
