#include "sip/shard_service.hpp"

#include "sip/media_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

#include "core/connection.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/spawn.hpp"
#include "sip/binding_hops.hpp"
#include "sip/presence_service.hpp"
#include "sip/proxy.hpp"
#include "sip/proxy_messages.hpp"
#include "sip/registrar.hpp"
#include "sip/response.hpp"
#include "sip/route_mark.hpp"
#include "sip/server.hpp"
#include "sip/subscriptions.hpp"
#include "users/credentials.hpp"

namespace junction::sip {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view allowed_methods =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH";

// The rate limiter's key: the address bytes, cheaper than text.
std::string address_key(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  auto b = a.to_v6().to_bytes();
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}



// FNV-1a: a stable, cheap hash for To-tags and home shards. Not a defence against anything.
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

asio::awaitable<void> receive_loop(shard_service& service, udp::socket& socket, std::size_t index) {
  std::vector<char> buffer(65536);
  for (;;) {
    udp::endpoint peer;
    auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), peer, no_throw);
    if (ec == asio::error::operation_aborted || !socket.is_open()) co_return;
    if (ec) continue;  // ICMP errors of earlier sends surface here on Linux: not ours to act on
    service.on_datagram({buffer.data(), n}, origin{transport::udp, index, peer, 0});
  }
}

// Forgets expired registrations now and then and keeps the bindings gauge current.
asio::awaitable<void> housekeeping(shard_service& service, shard& home) {
  asio::steady_timer timer(home.context());
  home.on_drain([&timer] { timer.cancel(); });
  while (!home.draining()) {
    timer.expires_after(std::chrono::seconds(5));
    auto [ec] = co_await timer.async_wait(no_throw);
    if (ec) co_return;
    service.locations().purge(sip_clock::now());
    service.purge_offline(std::chrono::system_clock::now());
    service.report_bindings();
    service.presence().housekeeping(sip_clock::now());
  }
}



// A proxy takes out the credentials meant for it and passes on those for proxies further on
// (RFC 3261 §22.3): a second authenticating proxy downstream then sees its own.
void keep_other_realms_credentials(message& request, std::string_view our_realm) {
  std::vector<std::string> others;
  for (const auto& h : request.headers()) {
    if (h.id != header_id::proxy_authorization) continue;
    auto parsed = users::parse_credentials(h.value);
    if (!parsed.ok() || !iequals(parsed.credentials.realm, our_realm)) others.emplace_back(h.value);
  }
  request.remove_all(header_id::proxy_authorization);
  for (const auto& v : others) request.append(header_id::proxy_authorization, v);
}

// The URI of a request's first Route, when it has one that parses.
std::optional<uri> first_route(const message& request) {
  const header_field* route = request.find(header_id::route);
  if (!route) return std::nullopt;
  std::vector<std::string_view> items;
  split_list(route->value, items, 1);
  auto first = items.empty() ? std::nullopt : parse_address(items.front());
  return first ? parse_uri(first->uri_text) : std::nullopt;
}

}  // namespace

shard_service::shard_service(server& owner, shard& home)
    : owner_(owner),
      home_(home),
      locations_(expiry_policy{owner.config().min_expires, owner.config().max_expires,
                               owner.config().default_expires, owner.config().max_bindings_per_aor}),
      limiter_(owner.config().udp_rate_limit),
      guessers_({.allowed = owner.config().auth_failures_allowed, .max_delay = owner.config().auth_lockout_max}),
      // A user's count is higher: guessers from many addresses must not lock its owner out soon.
      guessed_({.allowed = owner.config().auth_failures_allowed * 4, .max_delay = owner.config().auth_lockout_max}),
      tag_secret_(std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}()),
      proxy_(std::make_unique<proxy_engine>(
          *this, home, timer_values{owner.config().t1, owner.config().t2, owner.config().t4})),
      presence_(std::make_unique<presence_service>(*this, owner, home)) {
  if (owner.config().anchor_media)
    relays_ = std::make_unique<media_relays>(home, owner.anchor_address(), owner.config().media_timeout,
                                             owner.metrics().relay);
}

shard_service::~shard_service() = default;

void shard_service::add_socket(udp::socket socket) {
  sockets_.push_back(std::make_unique<udp::socket>(std::move(socket)));
  auto* s = sockets_.back().get();
  // What Via, Record-Route and Contact name for this address, worked out once: every forwarded
  // request and every response asks (getsockname each time would be a system call apiece).
  auto local = s->local_endpoint();
  const auto& domains = owner_.config().domains;
  if (!local.address().is_unspecified()) advertised_.emplace_back(local.address().to_string(), local.port());
  else  // bound to every address: the first configured domain names this server best
    advertised_.emplace_back(domains.empty() ? std::string("127.0.0.1") : domains.front(), local.port());
  // Open while the server drains: what is still being wound up (a gateway line's BYE and
  // unregistration) goes through here. The sockets close with the service, after the shards stop.
  asio::co_spawn(home_.context(), receive_loop(*this, *s, sockets_.size() - 1),
                 log_failure{"sip udp receive loop"});
}

void shard_service::start() {
  proxy_->start();
  load_offline();
  asio::co_spawn(home_.context(), housekeeping(*this, home_),
                 log_failure{"sip housekeeping"});
}

void shard_service::report_bindings() {
  if (auto refused = locations_.refused_for_cap(); refused > reported_refusals_) {
    home_.metrics().add(owner_.metrics().bindings_refused, refused - reported_refusals_);
    log::throttled(log::level::warn, "sip bindings cap", "sip: {} REGISTERs refused: their AOR has "
                   "sip.max_bindings_per_aor bindings", refused - reported_refusals_);
    reported_refusals_ = refused;
  }
  std::size_t now = locations_.binding_count();
  auto id = owner_.metrics().bindings;
  if (now > reported_bindings_) home_.metrics().add(id, now - reported_bindings_);
  else home_.metrics().sub(id, reported_bindings_ - now);
  reported_bindings_ = now;
}

void shard_service::send(std::string bytes, const origin& to) {
  if (to.flow) {
    unsigned holder = connection_registry::shard_of(to.flow);
    if (holder != home_.index()) {
      if (holder < owner_.rt().size())
        owner_.rt().post(holder, [&target = owner_.service(holder), bytes = std::move(bytes), to]() mutable {
          target.send(std::move(bytes), to);
        });
      return;
    }
    auto it = flows_.find(to.flow);
    if (it != flows_.end()) it->second->send(std::move(bytes));
    return;  // a flow that closed: what was meant for it is lost, as on a dead UDP path
  }
  if (to.socket >= sockets_.size() || !sockets_[to.socket]->is_open()) return;
  auto data = std::make_shared<std::string>(std::move(bytes));
  sockets_[to.socket]->async_send_to(asio::buffer(*data), to.peer,
                                     [data](boost::system::error_code, std::size_t) {});
}

std::string shard_service::to_tag(const message& request) const {
  // A stateless answer must carry the same To-tag each time the request is retransmitted
  // (RFC 3261 §8.2.7), so the tag is derived from what identifies the request.
  std::uint64_t h = fnv1a(request.call_id(), tag_secret_);
  h = fnv1a(request.from().tag(), h);
  h = fnv1a(std::to_string(request.cseq()), h);
  if (!request.vias().empty()) h = fnv1a(request.top_via().branch(), h);
  return fmt::format("{:016x}", h);
}

origin shard_service::response_target(const message& request, const origin& from) const {
  // A stream transport answers on the connection the request came on (§18.2.2). Unreliable
  // transport: to the address the request came from ("received"), at the port the top Via
  // names, or the source port when it asked with rport.
  origin to = from;
  if (from.flow) return to;
  if (!request.vias().empty() && !request.top_via().params.has("rport"))
    to.peer.port(request.top_via().port ? request.top_via().port : 5060);
  return to;
}

void shard_service::respond(const message& request, int status, const origin& from,
                            std::string_view reason,
                            std::vector<std::pair<std::string_view, std::string_view>> headers) {
  std::string tag = to_tag(request);
  headers.emplace_back("Server", server_header);
  send(make_response(request, status, {.reason = reason, .to_tag = tag, .headers = std::move(headers)}),
       response_target(request, from));
  home_.metrics().add(owner_.metrics().responses_out);
}

void shard_service::on_datagram(std::string_view bytes, const origin& from) {
  if (!limiter_.allow(address_key(from.peer.address()), sip_clock::now())) {
    home_.metrics().add(owner_.metrics().rate_limited);
    return;
  }
  // RFC 5626 §4.4.1 keepalives over UDP are STUN; a bare CRLF or two is also seen in the wild.
  if (bytes.find_first_not_of("\r\n") == std::string_view::npos) return;
  on_message(parse_message(bytes, owner_.limits(), /*datagram=*/true), from);
}

void shard_service::on_stream_message(std::string_view bytes, const origin& from) {
  on_message(parse_message(bytes, owner_.limits(), /*datagram=*/false), from);
}

void shard_service::on_websocket_message(std::string_view bytes, const origin& from) {
  on_message(parse_message(bytes, owner_.limits(), /*datagram=*/true), from);
}

void shard_service::on_message(parse_result r, const origin& from) {
  auto& counters = home_.metrics();
  const auto& m = owner_.metrics();
  if (!r.ok()) {
    counters.add(m.bad_messages);
    log::info("sip {}: {} {} ({})", describe(from), r.status, r.reason,
              r.answerable() ? "answered" : "dropped");
    if (r.answerable()) respond(*r.msg, r.status, from, r.reason);
    return;
  }
  if (!r.msg->is_request()) {
    counters.add(m.responses_in);
    handle_response(std::move(*r.msg));
    return;
  }
  counters.add(m.requests_in);
  message request = std::move(*r.msg);
  request.set_top_via(stamp_via(request.top_via(), from.peer.address().to_string(), from.peer.port()));
  handle_request(std::move(request), from);
}

void shard_service::add_flow(flow& f) { flows_[f.id()] = &f; }

void shard_service::remove_flow(std::uint64_t id) {
  flows_.erase(id);
  // Bindings made over this flow are unreachable now (RFC 5626 §7): every shard forgets its own.
  for (unsigned i = 0; i < owner_.rt().size(); ++i)
    owner_.rt().post(i, [&target = owner_.service(i), id] { target.forget_flow(id); });
}

void shard_service::forget_flow(std::uint64_t id) {
  if (locations_.forget_flow(id) > 0) report_bindings();
}

bool shard_service::sent_by_us(const via& v) const {
  return std::any_of(advertised_.begin(), advertised_.end(),
                     [&v](const auto& a) { return v.port == a.second && iequals(v.host, a.first); });
}

void shard_service::handle_response(message response) {
  // RFC 3261 §18.1.2: a response whose top Via is not this server's was not asked for here; it
  // is dropped, never passed on (an unsolicited response must not make this server send).
  if (!sent_by_us(response.top_via())) {
    log::debug("sip: response {} for {} dropped: its top Via is not ours", response.status(),
               response.call_id());
    return;
  }
  // The branch says which shard holds the client transaction (proxy_messages.hpp).
  auto shard = shard_of_branch(response.top_via().branch());
  if (!shard || *shard >= owner_.rt().size()) return;  // not from a branch of ours
  if (*shard == home_.index()) return proxy_->on_response(std::move(response));
  owner_.rt().post(*shard, [&target = owner_.service(*shard), response = std::move(response)]() mutable {
    target.proxy().on_response(std::move(response));
  });
}

const std::pair<std::string, std::uint16_t>& shard_service::advertised(std::size_t index) const {
  return advertised_.at(index);
}

bool shard_service::is_us(const uri& u, std::size_t socket) const {
  if (!u.is_sip_family()) return false;
  const auto& [host, port] = advertised(socket);
  if (u.port_or_default() != port) return false;
  return iequals(u.host, host) || is_local_domain(u.host, owner_.config().domains);
}

void shard_service::handle_request(message request, const origin& from) {
  const std::string_view method = request.method();
  const bool ack = method == "ACK";
  // Loose routing (RFC 3261 §16.4): a first Route naming this server is consumed, and the
  // request goes where the rest of the route set or its Request-URI says.
  if (request.find(header_id::route)) {
    auto route_uri = first_route(request);
    if (route_uri && is_us(*route_uri, from.socket)) return forward_routed(std::move(request), from);
    if (ack) return;
    return respond(request, 403, from, "Relaying Not Allowed (Route Is Not This Server)");
  }
  dispatch_local(std::move(request), from);
}

void shard_service::dispatch_local(message request, const origin& from) {
  const std::string_view method = request.method();
  const bool ack = method == "ACK";
  const uri& target = request.request_uri();
  if (!target.is_sip_family()) return ack ? void() : respond(request, 416, from);
  const auto& domains = owner_.config().domains;
  // This server's own address stands for it too: it is the Contact its subscriptions give.
  if (!is_local_domain(target.host, domains) && !is_us(target, from.socket)) {
    if (owner_.config().outbound == "authenticated") return route_outbound(std::move(request), from);
    return ack ? void() : respond(request, 403, from, "Relaying Not Allowed");
  }

  if (method == "REGISTER") {
    if (auto require = request.value(header_id::require); !require.empty())
      return respond(request, 420, from, {}, {{"Unsupported", require}});
    auto to = parse_uri(request.to().uri_text);
    auto aor = to ? canonical_aor(*to) : std::nullopt;
    unsigned home = aor ? owner_.home_of(*aor) : home_.index();
    if (home == home_.index()) return handle_register(std::move(request), from);
    owner_.rt().post(home, [&target = owner_.service(home), request = std::move(request), from]() mutable {
      target.handle_register(std::move(request), from);
    });
    return;
  }
  if ((method == "SUBSCRIBE" || method == "PUBLISH") && route_presence(request, from)) return;

  if (!target.user.empty()) {
    // A request for one of our users: this server is its proxy (RFC 3261 §16.3).
    if (!ack) {
      if (auto require = request.value(header_id::proxy_require); !require.empty())
        return respond(request, 420, from, {}, {{"Unsupported", require}});
      if (request.max_forwards() == 0) return respond(request, 483, from);
    }
    // Everything about one AOR happens on its home shard: its bindings are there, and so are
    // the transactions its retransmissions, CANCELs and ACKs must find.
    unsigned home = owner_.home_of(*canonical_aor(target));
    if (home == home_.index()) return route_to_aor(std::move(request), from);
    owner_.rt().post(home, [&target = owner_.service(home), request = std::move(request), from]() mutable {
      target.route_to_aor(std::move(request), from);
    });
    return;
  }

  // Addressed to the server itself: it is the UAS (RFC 3261 §8.2).
  if (ack) return;  // the ACK of a non-2xx answer this server sent statelessly
  if (auto require = request.value(header_id::require); !require.empty())
    return respond(request, 420, from, {}, {{"Unsupported", require}});
  if (method == "OPTIONS")
    return respond(request, 200, from, {},
                   {{"Allow", allowed_methods}, {"Accept", "application/sdp"}, {"Supported", "path"}});
  if (method == "INVITE") return respond(request, 404, from, "No Service At This Address");
  if (method == "BYE" || method == "CANCEL" || method == "PRACK" || method == "UPDATE" ||
      method == "INFO")
    return respond(request, 481, from);
  if (method == "SUBSCRIBE") return respond(request, 489, from, {}, {{"Allow-Events", "presence"}});
  if (method == "NOTIFY") return respond(request, 481, from);
  if (method == "MESSAGE" || method == "REFER")
    return respond(request, 405, from, {}, {{"Allow", allowed_methods}});
  respond(request, 501, from, {}, {{"Allow", allowed_methods}});
}

bool shard_service::route_presence(message& request, const origin& from) {
  if (request.method() == "SUBSCRIBE") {
    auto event = parse_event(request.value(header_id::event));
    if (!event || event->package != "presence") return false;  // other packages: the user's devices
  }
  // The presentity is the Request-URI of an initial request. Inside a dialog the Request-URI
  // is this server's Contact, and To names the presentity.
  const uri& target = request.request_uri();
  std::optional<uri> subject = target.user.empty() ? parse_uri(request.to().uri_text) : std::optional<uri>(target);
  auto aor = subject ? canonical_aor(*subject) : std::nullopt;
  if (!aor || !is_local_domain(subject->host, owner_.config().domains)) {
    respond(request, 404, from, "No Such Presentity");
    return true;
  }
  unsigned home = owner_.home_of(*aor);
  if (home == home_.index()) {
    handle_presence(std::move(request), from, *aor);
    return true;
  }
  owner_.rt().post(home, [&target = owner_.service(home), request = std::move(request), from, aor = std::move(*aor)]() mutable {
    target.handle_presence(std::move(request), from, aor);
  });
  return true;
}

void shard_service::route_outbound(message request, const origin& from) {
  origin reply_to = response_target(request, from);
  if (proxy_->absorb(request, reply_to)) return;  // retransmissions, CANCELs, ACKs of failures
  const std::string_view method = request.method();
  // An ACK no transaction took is the ACK of a challenge this server sent statelessly.
  if (method == "ACK") return;
  if (method == "CANCEL") return respond(request, 481, from);
  // Only local users call out, and they prove it (RFC 3261 §22.3: the proxy's 407).
  auto caller = parse_uri(request.from().uri_text);
  if (!caller || !caller->is_sip_family() || caller->user.empty() ||
      !is_local_domain(caller->host, owner_.config().domains))
    return respond(request, 403, from, "Relaying Not Allowed");
  if (!authorized(request, from, *caller, /*as_proxy=*/true)) return;
  if (request.max_forwards() == 0) return respond(request, 483, from);
  keep_other_realms_credentials(request, caller->host);
  const uri& target = request.request_uri();
  std::string host(target.host.starts_with("[") ? target.host.substr(1, target.host.size() - 2) : target.host);
  auto port = target.port_or_default();
  auto go = [this, reply_to, socket = from.socket](message request, udp::endpoint peer) {
    hop h{origin{transport::udp, socket, peer, 0}, std::string(request.request_uri_text()), {}};
    proxy_->forward(std::move(request), reply_to, {h});
  };
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return go(std::move(request), udp::endpoint(address, port));
  // A host name: its A/AAAA records (no NAPTR/SRV: a name with a port, or port 5060). The
  // resolver works on its own thread and answers on this shard.
  auto resolver = std::make_shared<udp::resolver>(home_.context());
  auto held = std::make_shared<message>(std::move(request));
  resolver->async_resolve(host, std::to_string(port),
                          [this, resolver, held, from, go](boost::system::error_code ec, udp::resolver::results_type found) {
                            if (ec || found.empty()) {
                              log::info("sip {}: outbound call to {}: {}", describe(from), held->request_uri_text(),
                                        ec ? ec.message() : "no address");
                              return respond(*held, 404, from, "Destination Host Not Found");
                            }
                            go(std::move(*held), found.begin()->endpoint());
                          });
}

void shard_service::route_to_aor(message request, const origin& from) {
  origin reply_to = response_target(request, from);
  if (proxy_->absorb(request, reply_to)) return;
  const std::string_view method = request.method();
  if (method == "ACK") return;  // acknowledges nothing this shard knows
  if (method == "CANCEL") return respond(request, 481, from);
  auto aor = canonical_aor(request.request_uri());
  std::vector<hop> hops;
  for (const binding& b : locations_.lookup(*aor, sip_clock::now()))
    if (auto peer = next_hop_of(b, from.socket)) hops.push_back(hop{*peer, b.contact, b.path});
  if (hops.empty()) {
    if (method == "MESSAGE") return store_offline(request, from, *aor);
    return respond(request, 404, from);
  }
  proxy_->forward(std::move(request), reply_to, hops);
}

std::string shard_service::route_mark(std::string_view call_id) const {
  return make_route_mark(owner_.auth().nonce_secret, call_id);
}

bool shard_service::marked_for_dialog(const message& request, const uri& route) const {
  // Inside a dialog (a To-tag), on a route this server record-routed for this very Call-ID.
  return !request.to().tag().empty() &&
         route_mark_valid(owner_.auth().nonce_secret, request.call_id(), route.params.value(route_mark_param));
}

void shard_service::forward_routed(message request, const origin& from) {
  auto ours = first_route(request);
  const bool dialog = ours && marked_for_dialog(request, *ours);
  // An anchored call's dialog names the shard relaying its media in the route this server
  // record-routed: its re-INVITEs (from either side, so on any shard) are handled there, and its
  // BYE ends the relay there.
  if (relays_ && dialog) {
    auto shard = parse_decimal(ours->params.value(anchor_shard_param), 4096);
    if (shard && *shard < owner_.rt().size()) {
      const auto relay = static_cast<unsigned>(*shard);
      if (request.method() == "INVITE" && relay != home_.index()) {
        log::debug("sip: re-INVITE of anchored call {} handed to shard {}, which relays its media",
                   request.call_id(), relay);
        owner_.rt().post(relay, [&target = owner_.service(relay), request = std::move(request), from]() mutable {
          target.forward_routed(std::move(request), from);
        });
        return;
      }
      if (request.method() == "BYE")
        owner_.rt().post(relay, [&target = owner_.service(relay), id = std::string{request.call_id()}] {
          if (target.relays()) target.relays()->end(id);
        });
    }
  }
  request.remove_first_element(header_id::route);
  const bool ack = request.method() == "ACK";
  if (!ack && request.max_forwards() == 0) return respond(request, 483, from);
  // What remains decides: another Route, or (for an initial request that named this server
  // as its outbound proxy) one of our users, or (inside a dialog) the peer's contact.
  std::optional<uri> next;
  if (request.find(header_id::route)) {
    next = first_route(request);
  } else {
    const uri& target = request.request_uri();
    if (target.is_sip_family() && is_local_domain(target.host, owner_.config().domains) &&
        (target.port == 0 || is_us(target, from.socket)))
      return dispatch_local(std::move(request), from);
    next = target;
  }
  origin reply_to = response_target(request, from);
  if (proxy_->absorb(request, reply_to)) return;
  if (!dialog) {
    // Not a dialog this server record-routed: naming this server in a Route earns a request
    // nothing it would not get without one. Another host is reached only as an authenticated
    // local user's outbound call (sip.outbound), never relayed for anyone.
    if (ack) return;
    log::debug("sip {}: {} routed through this server to {} refused: no dialog of ours", describe(from),
               request.method(), next ? next->host : std::string_view{"?"});
    if (owner_.config().outbound == "authenticated") return route_outbound(std::move(request), from);
    return respond(request, 403, from, "Relaying Not Allowed");
  }
  boost::system::error_code ec;
  auto address = next && next->is_sip_family() ? asio::ip::make_address(
                     next->host.starts_with("[") ? next->host.substr(1, next->host.size() - 2) : next->host, ec)
                                               : asio::ip::address{};
  if (!next || !next->is_sip_family() || ec)
    return ack ? void() : respond(request, 404, from, "Next Hop Is Not An Address");
  // Inside a dialog the next hop is named by address, and reached over UDP: this server opens
  // no connections of its own yet.
  hop h{origin{transport::udp, from.socket, udp::endpoint(address, next->port_or_default()), 0},
        std::string(request.request_uri_text()), {}};
  if (ack) return proxy_->relay_ack(std::move(request), h);
  if (request.method() == "CANCEL") return respond(request, 481, from);
  proxy_->forward(std::move(request), reply_to, {h});
}

std::string describe(const origin& o) {
  return fmt::format("{} {}:{}", transport_token(o.kind), o.peer.address().to_string(), o.peer.port());
}

}  // namespace junction::sip
