#pragma once
// [xmpp]: the XMPP server (docs/xmpp.md): client listeners, the domains it serves, limits.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config_section.hpp"
#include "core/endpoint.hpp"
#include "core/tls_options.hpp"

namespace junction {

// Where another server's domain is reached when DNS does not say (XMPP federation): "host:port",
// the host a name or an address.
struct xmpp_s2s_route {
  std::string domain;
  std::string host;
  std::uint16_t port = 5269;
  friend bool operator==(const xmpp_s2s_route&, const xmpp_s2s_route&) = default;
};

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
  // In-band registration (XEP-0077): anyone who can reach the listener may make an account, at
  // most registration_per_hour from one address. Off by default.
  bool registration = false;
  unsigned registration_per_hour = 5;
  // Stream management (XEP-0198): a client's stream whose connection dropped may be resumed
  // within sm_resume_timeout (its messages wait); more than sm_max_unacked stanzas sent and not
  // acknowledged end a stream.
  std::chrono::milliseconds sm_resume_timeout{std::chrono::minutes(5)};
  std::size_t sm_max_unacked = 1000;
  // Multi-user chat (XEP-0045) at <muc_subdomain>.<domain> for each domain ("" turns it off);
  // the messages a room keeps for newcomers; whether users of other servers may make rooms.
  std::string muc_subdomain = "conference";
  std::size_t muc_history = 20;
  bool muc_remote_creators = false;
  // Message archives (XEP-0313): every chat message a user sends or receives, kept in the user
  // store for archive_expires_after (0: for ever), queried by clients page by page.
  bool archive = true;
  std::chrono::milliseconds archive_expires_after{std::chrono::hours(24 * 7)};
  // HTTP file upload (XEP-0363) at <upload_subdomain>.<domain> ("" turns it off): files up to
  // upload_max_size bytes, at most upload_quota bytes per account, kept in upload_directory for
  // upload_expires_after (0: for ever), PUT to and served from Junction's HTTP server at
  // <upload_url>/upload/… (upload_url empty: the first HTTPS, else HTTP, listener as bound).
  std::string upload_subdomain = "upload";
  std::string upload_directory = "junction-uploads";
  std::string upload_url;
  std::size_t upload_max_size = 10 * 1024 * 1024;
  std::size_t upload_quota = 100 * 1024 * 1024;
  std::chrono::milliseconds upload_expires_after{std::chrono::hours(24 * 30)};
  // Federation (RFC 6120 server-to-server, XEP-0220 dialback): other servers connect to
  // s2s_listen; Junction connects to theirs, found by DNS SRV (_xmpp-server._tcp) or s2s_route.
  bool federation = true;
  std::vector<listen_address> s2s_listen{{"127.0.0.1", 5269}};
  // No dialback and no stanza over an unencrypted server-to-server stream (incoming streams need
  // tls_certificate then).
  bool s2s_require_encryption = true;
  // What dialback keys are made from; nodes that serve one domain share it. Empty: random at start.
  std::string dialback_secret;
  std::chrono::milliseconds s2s_connect_timeout{30000};              // connect, TLS and dialback
  std::chrono::milliseconds s2s_idle_timeout{std::chrono::minutes(10)};  // then a link closes
  std::vector<xmpp_s2s_route> s2s_routes;                            // [[xmpp.s2s_route]]
  bool listen_given = false, s2s_listen_given = false;
  friend bool operator==(const xmpp_config&, const xmpp_config&) = default;
};

void read_config(config_section& s, xmpp_config& out);

}  // namespace junction
