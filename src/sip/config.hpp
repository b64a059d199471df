#pragma once
// [sip]: listeners, domains, registrar limits, authentication, presence, routing, anchoring, timers.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"
#include "core/tls_options.hpp"
#include "core/endpoint.hpp"

namespace junction {

struct sip_config {
  std::vector<listen_address> listen{{"127.0.0.1", 5060}};  // UDP and TCP, per shard
  std::vector<listen_address> tls_listen;                   // SIP over TLS
  std::string tls_certificate;
  std::string tls_private_key;
  tls_options tls;  // tls_min_version, tls_max_version, tls_ciphers, tls_ciphersuites
  bool websocket = true;  // SIP over WebSocket (RFC 7118) at /sip on the HTTP listeners
  std::chrono::milliseconds tcp_idle_timeout{600'000};
  // A message begun on a stream must be complete within this (slow-drip and stalled peers).
  std::chrono::milliseconds tcp_message_timeout{10'000};
  // A new TCP/TLS connection must finish its TLS handshake and send a whole first message within
  // this (idle connections held to exhaust the server are closed).
  std::chrono::milliseconds tcp_first_message_timeout{10'000};
  // The domains this server is the registrar and proxy for (Request-URI and To hosts).
  std::vector<std::string> domains{"localhost", "127.0.0.1"};
  std::size_t max_message_size = 65535;
  std::size_t max_header_fields = 128;
  unsigned min_expires = 60;      // shorter registrations get 423 with Min-Expires
  unsigned max_expires = 3600;    // longer ones are cut to this
  unsigned default_expires = 3600;
  unsigned max_bindings_per_aor = 10;  // more get 503: each binding is a branch of every request
  // Datagrams one source address may send per second before the rest are dropped and counted;
  // 0 turns the limit off.
  unsigned udp_rate_limit = 200;
  // REGISTER needs digest authentication against the user store (users.database).
  bool authenticate = true;
  std::chrono::milliseconds nonce_lifetime{300'000};
  // Failed digest logins a source address may make (a user: four times as many) before each
  // further one locks it out for a delay that doubles up to auth_lockout_max.
  unsigned auth_failures_allowed = 10;
  std::chrono::seconds auth_lockout_max{300};
  std::vector<std::string> digest_algorithms{"SHA-256", "MD5"};  // challenge order
  // User-Agent substrings (any case) of clients that get one MD5 challenge instead of the list.
  std::vector<std::string> md5_only_user_agents{"baresip", "JsSIP", "SIP.js"};
  // Who may watch a user's presence: "contacts" (the user, and the addresses on the user's
  // contact list in the user store) or "open" (anyone).
  std::string presence_authorization = "contacts";
  // Requests for other domains: "refuse" (403, no open relay) or "authenticated" (a local user
  // who answers a 407 digest challenge may call out; the request goes to the Request-URI's host).
  std::string outbound = "refuse";
  // Media anchoring: the proxy points both phones' SDP at Junction and relays their RTP, so that
  // the call's media goes through here (src/sip/media_relay.hpp).
  bool anchor_media = false;
  std::string anchor_address;  // where relays bind and what the SDP says; empty: the first listen host
  std::chrono::milliseconds media_timeout{30'000};  // a relay nobody sends through this long is closed
  // Transaction timers (RFC 3261 §17): RTT estimate, retransmit cap, network lifetime.
  std::chrono::milliseconds t1{500}, t2{4000}, t4{5000};
  bool listen_given = false;
  friend bool operator==(const sip_config&, const sip_config&) = default;
};

void read_config(config_section& s, sip_config& out);

}  // namespace junction
