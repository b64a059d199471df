#include "sip/shard_service.hpp"

#include "sip/media_bridge.hpp"
#include "sip/media_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <random>

#include "core/connection.hpp"
#include "core/datagram_batch.hpp"
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
#include "sip/router.hpp"
#include "sip/server.hpp"
#include "sip/subscriptions.hpp"
#include "users/credentials.hpp"

namespace junction::sip {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

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

// One wake-up when the socket is readable, then what is queued in batches (core/datagram_batch):
// at most 8 batches a turn, so that one busy socket does not hold the shard.
asio::awaitable<void> receive_loop(shard_service& service, udp::socket& socket, std::size_t index) {
  datagram_batch batch;
  for (;;) {
    auto [ec] = co_await socket.async_wait(udp::socket::wait_read, no_throw);
    if (ec == asio::error::operation_aborted || !socket.is_open()) co_return;
    drain_datagrams(
        batch, socket.native_handle(),
        [&](std::string_view data, const udp::endpoint& peer) {
          service.on_datagram(data, origin{transport::udp, index, peer, 0});
        },
        [&] { return socket.is_open(); });
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
      presence_(std::make_unique<presence_service>(*this, owner, home)),
      outbox_(owner.rt(), home) {
  if (owner.config().anchor_media)
    relays_ = std::make_unique<media_relays>(home, owner.anchor_address(), owner.config().media_timeout,
                                             owner.metrics().relay);
  routing_.advertised = &advertised_;
  routing_.other_ports = &other_ports_;
  routing_.outbound_authenticated = owner.config().outbound == "authenticated";
  routing_.route_secret = owner.auth().nonce_secret;
  routing_.shards = static_cast<unsigned>(owner.rt().size());
  routing_.anchoring = relays_ != nullptr;
}

shard_service::~shard_service() = default;

void shard_service::set_bridges(std::unique_ptr<media_bridges> b) {
  bridges_ = std::move(b);
  routing_.anchoring = relays_ != nullptr || bridges_ != nullptr;
}

void shard_service::add_socket(udp::socket socket) {
  sockets_.push_back(std::make_unique<udp::socket>(std::move(socket)));
  queued_sends_.push_back(0);
  auto* s = sockets_.back().get();
  // What Via, Record-Route and Contact name for this address, worked out once: every forwarded
  // request and every response asks (getsockname each time would be a system call apiece).
  auto local = s->local_endpoint();
  const auto& domains = owner_.domains();
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
        outbox_.post(holder, [&target = owner_.service(holder), bytes = std::move(bytes), to]() mutable {
          target.send(std::move(bytes), to);
        });
      return;
    }
    auto it = flows_.find(to.flow);
    if (it != flows_.end()) it->second->send(std::move(bytes));
    return;  // a flow that closed: what was meant for it is lost, as on a dead UDP path
  }
  if (to.socket >= sockets_.size() || !sockets_[to.socket]->is_open()) return;
  // Nearly always the socket buffer has room: sent now, no allocation, no completion. When it
  // had none, what follows queues behind what waits, in order.
  if (queued_sends_[to.socket] == 0 && send_datagram_now(sockets_[to.socket]->native_handle(), bytes, to.peer))
    return;
  auto data = std::make_shared<std::string>(std::move(bytes));
  ++queued_sends_[to.socket];
  sockets_[to.socket]->async_send_to(asio::buffer(*data), to.peer,
                                     [this, data, socket = to.socket](boost::system::error_code, std::size_t) {
                                       --queued_sends_[socket];
                                     });
}

std::string shard_service::to_tag(const message& request) const {
  // A stateless answer must carry the same To-tag each time the request is retransmitted
  // (RFC 3261 §8.2.7), so the tag is derived from what identifies the request.
  std::uint64_t h = fnv1a(request.call_id(), tag_secret_);
  h = fnv1a(request.from().tag(), h);
  const std::uint32_t cseq = request.cseq();
  h = fnv1a(std::string_view(reinterpret_cast<const char*>(&cseq), sizeof cseq), h);
  if (!request.vias().empty()) h = fnv1a(request.top_via().branch(), h);
  std::string tag(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) tag[static_cast<std::size_t>(i)] = "0123456789abcdef"[h & 15];
  return tag;
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
    log::info("sip {}: {} {} ({})", describe(from), r.status(), r.reason(),
              r.answerable() ? "answered" : "dropped");
    if (r.answerable()) respond(*r.msg, r.status(), from, r.reason());
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
    post_to(i, [&target = owner_.service(i), id] { target.forget_flow(id); });
}

void shard_service::post_to(unsigned shard, shard_job work) {
  if (shard != home_.index()) return outbox_.post(shard, std::move(work));
  owner_.rt().post(shard, [work = std::move(work)]() mutable { work(); });  // later, as a post
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
  outbox_.post(*shard, [&target = owner_.service(*shard), response = std::move(response)]() mutable {
    target.proxy().on_response(std::move(response));
  });
}

const std::pair<std::string, std::uint16_t>& shard_service::advertised(std::size_t index) const {
  return advertised_.at(index);
}

const std::pair<std::string, std::uint16_t>& shard_service::advertised_for(const origin& side) const {
  if (side.kind == transport::tls && !tls_advertised_.empty())
    return tls_advertised_[side.socket < tls_advertised_.size() ? side.socket : 0];
  return advertised_.at(side.socket < advertised_.size() ? side.socket : 0);
}

void shard_service::add_tls_address(std::string host, std::uint16_t port) {
  tls_advertised_.emplace_back(std::move(host), port);
  other_ports_.push_back(port);
}

std::string shard_service::flow_token(std::string_view call_id, std::uint64_t flow) const {
  return make_flow_token(owner_.auth().nonce_secret, call_id, flow);
}

void shard_service::handle_request(message request, const origin& from) {
  routing_.domains = &owner_.domains();  // this shard's, as of the last reload
  auto decision = route_request(request, from.socket, home_.index(), routing_);
  carry_out(std::move(decision), std::move(request), from);
}

void shard_service::carry_out(route_decision d, message request, const origin& from) {
  using action = route_decision::action;
  if (d.end_relay_on && *d.end_relay_on < owner_.rt().size())
    post_to(*d.end_relay_on, [&target = owner_.service(*d.end_relay_on), id = std::string{request.call_id()}] {
      if (target.relays()) target.relays()->end(id);
      if (target.bridges()) target.bridges()->end(id);
    });
  const origin reply_to = response_target(request, from);
  if (d.transactional && proxy_->absorb(request, reply_to)) return;  // retransmissions, CANCELs, ACKs of failures
  // Runs `f(service, request)` on `shard`: here at once, else posted there with the request.
  auto on = [&](unsigned shard, auto f) {
    if (shard == home_.index()) return f(*this, std::move(request));
    outbox_.post(shard, [&target = owner_.service(shard), f, request = std::move(request)]() mutable {
      f(target, std::move(request));
    });
  };
  switch (d.what) {
    case action::respond: {
      std::vector<std::pair<std::string_view, std::string_view>> headers(d.headers.begin(), d.headers.end());
      return respond(request, d.status, from, d.reason, std::move(headers));
    }
    case action::drop:
      return;
    case action::registrar:
      return on(d.shard, [from](shard_service& s, message m) { s.handle_register(std::move(m), from); });
    case action::presence:
      return on(d.shard, [from, aor = std::move(d.aor)](shard_service& s, message m) {
        s.handle_presence(std::move(m), from, aor);
      });
    case action::to_aor:
      return on(d.shard, [from](shard_service& s, message m) { s.route_to_aor(std::move(m), from); });
    case action::outbound:
      return route_outbound(std::move(request), from);
    case action::hand_over:
      log::debug("sip: re-INVITE of anchored call {} handed to shard {}, which relays its media", request.call_id(),
                 d.shard);
      return on(d.shard, [from](shard_service& s, message m) { s.handle_request(std::move(m), from); });
    case action::in_dialog: {
      boost::system::error_code ec;
      auto address = asio::ip::make_address(d.next_host, ec);
      if (ec && !d.flow) return;  // the router passes IP literals only, but for a flow
      origin next{transport::udp, from.socket, ec ? udp::endpoint{} : udp::endpoint(address, d.next_port), 0};
      if (d.flow) {  // that side's connection (its Record-Route's token)
        next.flow = d.flow;
        next.kind = transport_from_token(d.flow_transport).value_or(transport::tls);
      }
      hop h{next, std::string(request.request_uri_text()), {}};
      if (request.method() == "ACK") return proxy_->relay_ack(std::move(request), h);
      return proxy_->forward(std::move(request), reply_to, {h});
    }
  }
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
      !is_local_domain(caller->host, owner_.domains()))
    return respond(request, 403, from, "Relaying Not Allowed");
  if (!authorized(request, from, *caller, /*as_proxy=*/true, [this, m = std::make_shared<message>(request.clone()), from]() mutable {
        route_outbound(std::move(*m), from);
      }))
    return;
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

std::string describe(const origin& o) {
  // Once per REGISTER (the binding keeps it): IPv4 written by hand, without inet_ntop's sprintf.
  std::string out(transport_token(o.kind));
  out += ' ';
  const auto address = o.peer.address();
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (i) out += '.';
      out += std::to_string(bytes[i]);
    }
  } else {
    out += address.to_string();
  }
  out += ':';
  out += std::to_string(o.peer.port());
  return out;
}

}  // namespace junction::sip
