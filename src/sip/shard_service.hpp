#pragma once
// One shard's share of the SIP server: its UDP sockets and flows (TCP, TLS, WebSocket
// connections), the registrations homed on it, its proxy engine and rate limiter. Only its own
// shard's thread touches it; other shards post work to it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "core/version.hpp"
#include "core/shard_outbox.hpp"
#include "sip/flow.hpp"
#include "sip/location.hpp"
#include "im/offline_messages.hpp"
#include "sip/message.hpp"
#include "sip/parser.hpp"
#include "users/auth_throttle.hpp"
#include "sip/rate_limiter.hpp"
#include "sip/router.hpp"

namespace junction {
class shard;
}
namespace junction::users {
class user_store;
}

namespace junction::sip {

class server;
class proxy_engine;
class presence_service;
class media_relays;
class media_bridges;

// Where a message came from, and so how to answer it.
struct origin {
  transport kind = transport::udp;
  std::size_t socket = 0;               // the listen address's index (UDP socket, or listener)
  boost::asio::ip::udp::endpoint peer;  // the peer's address and port (any transport)
  std::uint64_t flow = 0;               // stream transports: the connection; its shard is in the id
};

// What this server calls itself in Server headers.
inline constexpr std::string_view server_header = "junction/" JUNCTION_VERSION;

// "udp 192.0.2.1:5060": how bindings remember where a REGISTER came from.
std::string describe(const origin& o);

class shard_service {
 public:
  shard_service(server& owner, shard& home);
  ~shard_service();

  void add_socket(boost::asio::ip::udp::socket socket);  // on this shard, in listen order
  void start();                                           // receive loops, housekeeping

  // A datagram arrived on this shard, or a framed message on one of its flows.
  void on_datagram(std::string_view bytes, const origin& from);
  void on_stream_message(std::string_view bytes, const origin& from);
  // One WebSocket message is one SIP message (RFC 7118 §5.1: Content-Length may be absent).
  void on_websocket_message(std::string_view bytes, const origin& from);
  // A REGISTER for an AOR homed on this shard (maybe received on another).
  void handle_register(message request, const origin& from);
  // A request for an AOR homed on this shard: forwarded to its bindings, or answered.
  void route_to_aor(message request, const origin& from);

  // Flows open on this shard. remove_flow also tells every shard to forget bindings made over it.
  void add_flow(flow& f);
  void remove_flow(std::uint64_t id);
  void forget_flow(std::uint64_t id);

  // Sends from this shard: UDP from its socket, a flow's bytes to the shard that holds it.
  void send(std::string bytes, const origin& to);

  location_table& locations() noexcept { return locations_; }
  im::offline_messages& offline() noexcept { return offline_; }
  void purge_offline(std::chrono::system_clock::time_point now);
  proxy_engine& proxy() noexcept { return *proxy_; }
  // Media anchoring (sip.anchor_media), or null when off.
  media_relays* relays() noexcept { return relays_.get(); }
  // WebRTC <-> plain RTP calls (media_bridge.hpp), or null when the app gave none.
  media_bridges* bridges() noexcept { return bridges_.get(); }
  // Before start(): dialogs with a bridge then name this shard like anchored ones.
  void set_bridges(std::unique_ptr<media_bridges> b);
  presence_service& presence() noexcept { return *presence_; }
  // A SUBSCRIBE (presence package) or PUBLISH for a presentity homed on this shard.
  void handle_presence(message request, const origin& from, const std::string& presentity);
  // Brings the bindings gauge in line with the location table.
  void report_bindings();
  // The host and port listen address `index` puts in Via and Record-Route.
  const std::pair<std::string, std::uint16_t>& advertised(std::size_t index) const;
  // What a Record-Route facing `side` names: the TLS listener for a TLS flow, else the address
  // of the listen socket it came on.
  const std::pair<std::string, std::uint16_t>& advertised_for(const origin& side) const;
  // The TLS listeners' addresses, once bound (server.cpp): Record-Routes name them, and Routes
  // naming them name this server.
  void add_tls_address(std::string host, std::uint16_t port);
  std::string flow_token(std::string_view call_id, std::uint64_t flow) const;
  // The mark of the Record-Route this server adds to a dialog with this Call-ID (route_mark.hpp).
  std::string route_mark(std::string_view call_id) const;
  // The To-tag of this server's own answers to `request` (the same for its retransmissions).
  std::string tag_for(const message& request) const { return to_tag(request); }
  // Where a response to this request goes (RFC 3261 §18.2.2, RFC 3581 §4).
  origin response_target(const message& request, const origin& from) const;
  // Answers a request statelessly, with this server's To-tag for it.
  void respond(const message& request, int status, const origin& from, std::string_view reason = {},
               std::vector<std::pair<std::string_view, std::string_view>> headers = {});

 private:
  void on_message(parse_result parsed, const origin& from);
  // Where a request goes is the router's to say (router.hpp); this carries it out.
  void handle_request(message request, const origin& from);
  void carry_out(route_decision d, message request, const origin& from);
  void handle_response(message response);
  // Runs `work` on `shard` later: through the outbox, or posted when it is this one.
  void post_to(unsigned shard, shard_job work);
  bool sent_by_us(const via& v) const;
  // Digest authentication of a request by the user `identity` names (a REGISTER's To, a
  // PUBLISH's presentity, a SUBSCRIBE's watcher, a caller's From). As a registrar or notifier
  // the server challenges with 401; as a proxy (`as_proxy`) with 407. Answers 401/407/403/400/500
  // itself and returns false.
  // A user the shard's cache has not seen yet is asked of the store's worker: then it returns false
  // having answered nothing, and `again` (the request handled again) runs once the answer is here.
  bool authorized(const message& request, const origin& from, const uri& identity, bool as_proxy,
                  std::function<void()> again);
  // A request for another domain from a local user (sip.outbound = "authenticated"): challenged
  // with 407, then proxied to the Request-URI's host.
  void route_outbound(message request, const origin& from);
  std::string to_tag(const message& request) const;
  // A MESSAGE for a user of ours who is not registered: kept for later (202), or refused.
  void store_offline(const message& request, const origin& from, const std::string& aor);
  // Sends what waits for `aor` to its bindings, now that it has some.
  void deliver_offline(const std::string& aor, std::size_t socket);
  // The mailbox's database copy: read back at start (this shard's AORs), trimmed with the memory.
  void load_offline();
  void mailbox(std::string what, std::function<void(users::user_store&)> f);

  server& owner_;
  shard& home_;
  std::vector<std::unique_ptr<boost::asio::ip::udp::socket>> sockets_;
  // Per socket: sends queued asynchronously (its buffer was full); later ones queue behind them.
  std::vector<std::size_t> queued_sends_;
  std::vector<std::pair<std::string, std::uint16_t>> advertised_;  // per socket, see advertised()
  std::vector<std::pair<std::string, std::uint16_t>> tls_advertised_;
  std::vector<std::uint16_t> other_ports_;  // the TLS listeners' (router_settings::other_ports)
  router_settings routing_;
  std::unordered_map<std::uint64_t, flow*> flows_;
  location_table locations_;
  im::offline_messages offline_;
  rate_limiter limiter_;
  users::auth_throttle guessers_;  // failed logins per source address
  users::auth_throttle guessed_;   // failed logins per user (user@realm)
  std::uint64_t tag_secret_;
  std::size_t reported_bindings_ = 0;
  std::uint64_t reported_refusals_ = 0;
  std::uint64_t originated_ = 0;  // requests this shard sent itself (unique Call-IDs)
  std::unique_ptr<proxy_engine> proxy_;
  std::unique_ptr<presence_service> presence_;
  std::unique_ptr<media_relays> relays_;
  std::unique_ptr<media_bridges> bridges_;
  shard_outbox outbox_;  // what goes to other shards' services, one post per target a turn
  // Continuations posted back by the user store's worker run only while this is alive.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace junction::sip
