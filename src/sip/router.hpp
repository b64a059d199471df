#pragma once
// Where a SIP request goes, decided from the request, the listen address it came to and the
// server's settings alone: answered here, dropped, handed to the home shard of an address of
// record (a REGISTER, presence, a call for one of our users), proxied out for an authenticated
// local user (sip.outbound), or forwarded inside a dialog this server record-routed. Pure: no
// sockets, no shards, no store; shard_service carries the decision out (and authenticates,
// looks up bindings, keeps transactions). Loose routing (RFC 3261 §16.4): a first Route naming
// this server is popped from the request here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/home_shard.hpp"
#include "sip/message.hpp"

namespace junction::sip {

struct router_settings {
  const std::vector<std::string>* domains = nullptr;  // sip.domains: the domains we serve
  // What Via and Record-Route name for each listen address (host, port).
  const std::vector<std::pair<std::string, std::uint16_t>>* advertised = nullptr;
  bool outbound_authenticated = false;  // sip.outbound = "authenticated"
  std::string_view route_secret;        // what this server's Record-Route marks are made with
  unsigned shards = 1;
  bool anchoring = false;               // sip.anchor_media: dialogs may name a relaying shard
  // Ports of this server's other listeners (TLS): a Route naming one of them names this server.
  const std::vector<std::uint16_t>* other_ports = nullptr;
};

struct route_decision {
  enum class action {
    respond,       // answer statelessly: status, reason, headers
    drop,          // nothing (an ACK nothing here waits for)
    registrar,     // a REGISTER for `aor` (empty: unreadable To), on shard `shard`
    presence,      // a SUBSCRIBE (presence) or PUBLISH for presentity `aor`, on shard `shard`
    to_aor,        // a request for our user `aor`: proxied to its bindings, on shard `shard`
    outbound,      // for another domain: an authenticated local user's request (sip.outbound)
    in_dialog,     // inside a dialog we record-routed: on to next_host:next_port (an ACK: as is)
    hand_over,     // routed again on shard `shard`, which relays the anchored call's media
  };
  action what = action::drop;
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string aor;
  unsigned shard = 0;
  std::string next_host;  // in_dialog: an IP literal (brackets taken off)
  std::uint16_t next_port = 0;
  // in_dialog: the flow the next hop is reached over (its Record-Route's token), and that
  // Route's transport ("tls", "tcp", "ws", "wss"); 0: by address over UDP.
  std::uint64_t flow = 0;
  std::string flow_transport;
  // The proxy's transactions see the request first (a retransmission, a CANCEL, the ACK of a
  // failure is theirs); the decision holds for what they do not take.
  bool transactional = false;
  // A BYE of an anchored call: the relay on this shard ends.
  std::optional<unsigned> end_relay_on;
};

// The shard an address of record lives on: home_shard (core/home_shard.hpp) of the AOR.

// Decides for `request` (its top Via stamped already), received on listen address `socket` of
// shard `here`. May pop the first Route (see above).
route_decision route_request(message& request, std::size_t socket, unsigned here, const router_settings& s);

}  // namespace junction::sip
