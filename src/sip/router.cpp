#include "sip/router.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "sip/address.hpp"
#include "sip/registrar.hpp"
#include "sip/route_mark.hpp"
#include "sip/subscriptions.hpp"
#include "sip/syntax.hpp"

namespace junction::sip {
namespace {

using action = route_decision::action;

constexpr std::string_view allowed_methods =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH";

route_decision respond(int status, std::string_view reason = {},
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  route_decision d;
  d.what = action::respond;
  d.status = status;
  d.reason = reason;
  d.headers = std::move(headers);
  return d;
}

route_decision drop() { return {}; }

route_decision on_shard(action what, std::string aor, unsigned shard) {
  route_decision d;
  d.what = what;
  d.aor = std::move(aor);
  d.shard = shard;
  return d;
}

// The URI of a request's first Route, when it has one that parses.
std::optional<uri> first_route(const message& request) {
  const header_field* route = request.find(header_id::route);
  if (!route) return std::nullopt;
  list_items items;
  split_list(route->value, items, 1);
  auto first = items.empty() ? std::nullopt : parse_address(items.front());
  return first ? parse_uri(first->uri_text) : std::nullopt;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

class router {
 public:
  router(message& request, std::size_t socket, unsigned here, const router_settings& s)
      : request_(request), socket_(socket), here_(here), s_(s) {}

  route_decision decide() {
    // Loose routing (RFC 3261 §16.4): a first Route naming this server is consumed, and the
    // request goes where the rest of the route set or its Request-URI says.
    if (request_.find(header_id::route)) {
      auto route = first_route(request_);
      if (route && is_us(*route)) return routed(*route);
      if (ack()) return drop();
      return respond(403, "Relaying Not Allowed (Route Is Not This Server)");
    }
    return local();
  }

 private:
  bool ack() const { return request_.method() == "ACK"; }
  bool local_domain(std::string_view host) const { return is_local_domain(host, *s_.domains); }

  bool is_us(const uri& u) const {
    if (!u.is_sip_family() || socket_ >= s_.advertised->size()) return false;
    const auto& [host, port] = (*s_.advertised)[socket_];
    const bool our_port = u.port_or_default() == port ||
                          (s_.other_ports && std::find(s_.other_ports->begin(), s_.other_ports->end(),
                                                       u.port_or_default()) != s_.other_ports->end());
    if (!our_port) return false;
    return iequals(u.host, host) || local_domain(u.host);
  }

  // REGISTER, a request for one of our AORs (on its home shard), or one for the server itself.
  route_decision local() {
    const std::string_view method = request_.method();
    const uri& target = request_.request_uri();
    if (!target.is_sip_family()) return ack() ? drop() : respond(416);
    // This server's own address stands for it too: it is the Contact its subscriptions give.
    if (!local_domain(target.host) && !is_us(target)) {
      if (s_.outbound_authenticated) return on_shard(action::outbound, {}, here_);
      return ack() ? drop() : respond(403, "Relaying Not Allowed");
    }
    if (method == "REGISTER") {
      if (auto require = request_.value(header_id::require); !require.empty())
        return respond(420, {}, {{"Unsupported", std::string{require}}});
      auto to = parse_uri(request_.to().uri_text);
      auto aor = to ? canonical_aor(*to) : std::nullopt;
      // An unreadable To is the registrar's to refuse, here.
      return on_shard(action::registrar, aor.value_or(""), aor ? home_shard(*aor, s_.shards) : here_);
    }
    if (method == "SUBSCRIBE" || method == "PUBLISH")
      if (auto d = presence()) return std::move(*d);
    if (!target.user.empty()) {
      // A request for one of our users: this server is its proxy (RFC 3261 §16.3). Everything
      // about one AOR happens on its home shard: its bindings are there, and so are the
      // transactions its retransmissions, CANCELs and ACKs must find.
      if (!ack()) {
        if (auto require = request_.value(header_id::proxy_require); !require.empty())
          return respond(420, {}, {{"Unsupported", std::string{require}}});
        if (request_.max_forwards() == 0) return respond(483);
      }
      auto aor = *canonical_aor(target);
      const auto home = home_shard(aor, s_.shards);
      return on_shard(action::to_aor, std::move(aor), home);
    }
    return as_uas();
  }

  // Addressed to the server itself: it is the UAS (RFC 3261 §8.2).
  route_decision as_uas() {
    const std::string_view method = request_.method();
    if (ack()) return drop();  // the ACK of a non-2xx answer this server sent statelessly
    if (auto require = request_.value(header_id::require); !require.empty())
      return respond(420, {}, {{"Unsupported", std::string{require}}});
    const std::string allow{allowed_methods};
    if (method == "OPTIONS")
      return respond(200, {}, {{"Allow", allow}, {"Accept", "application/sdp"}, {"Supported", "path"}});
    if (method == "INVITE") return respond(404, "No Service At This Address");
    if (method == "BYE" || method == "CANCEL" || method == "PRACK" || method == "UPDATE" || method == "INFO" ||
        method == "NOTIFY")
      return respond(481);
    if (method == "SUBSCRIBE") return respond(489, {}, {{"Allow-Events", "presence"}});
    if (method == "MESSAGE" || method == "REFER") return respond(405, {}, {{"Allow", allow}});
    return respond(501, {}, {{"Allow", allow}});
  }

  // The presence package or PUBLISH: which presentity the request is about, on its home shard.
  // Nothing for another event package (the user's devices take those).
  std::optional<route_decision> presence() {
    if (request_.method() == "SUBSCRIBE") {
      auto event = parse_event(request_.value(header_id::event));
      if (!event || event->package != "presence") return std::nullopt;
    }
    // The presentity is the Request-URI of an initial request. Inside a dialog the Request-URI
    // is this server's Contact, and To names the presentity.
    const uri& target = request_.request_uri();
    std::optional<uri> subject =
        target.user.empty() ? parse_uri(request_.to().uri_text) : std::optional<uri>(target);
    auto aor = subject ? canonical_aor(*subject) : std::nullopt;
    if (!aor || !local_domain(subject->host)) return respond(404, "No Such Presentity");
    const auto home = home_shard(*aor, s_.shards);
    return on_shard(action::presence, std::move(*aor), home);
  }

  // A request that named this server in its first Route: only requests of a dialog this server
  // record-routed (its mark for the Call-ID) go on to another host.
  route_decision routed(const uri& ours) {
    const bool dialog = !request_.to().tag().empty() &&
                        route_mark_valid(s_.route_secret, request_.call_id(), ours.params.value(route_mark_param));
    std::optional<unsigned> end_relay_on;
    // An anchored call's dialog names the shard relaying its media: its re-INVITEs (from either
    // side, so on any shard) are handled there, and its BYE ends the relay there.
    if (s_.anchoring && dialog) {
      auto shard = parse_decimal(ours.params.value(anchor_shard_param), 4096);
      if (shard && *shard < s_.shards) {
        const auto relay = static_cast<unsigned>(*shard);
        if (request_.method() == "INVITE" && relay != here_) return on_shard(action::hand_over, {}, relay);
        if (request_.method() == "BYE") end_relay_on = relay;
      }
    }
    auto d = after_route(dialog);
    d.end_relay_on = end_relay_on;
    return d;
  }

  route_decision after_route(bool dialog) {
    request_.remove_first_element(header_id::route);
    // A dialog with a side on a flow was record-routed twice, once facing each side (RFC 5658):
    // the second Route names this server too, and its flow token says which connection the
    // rest of the way starts on.
    std::uint64_t flow = 0;
    std::string flow_transport;
    if (auto second = request_.find(header_id::route) ? first_route(request_) : std::nullopt; second && is_us(*second)) {
      request_.remove_first_element(header_id::route);
      if (auto token = second->params.value(flow_param); dialog && !token.empty()) {
        if (auto id = read_flow_token(s_.route_secret, request_.call_id(), token)) {
          flow = *id;
          flow_transport = std::string{second->params.value("transport")};
        }
      }
    }
    if (!ack() && request_.max_forwards() == 0) return respond(483);
    // What remains decides: another Route, or (for an initial request that named this server
    // as its outbound proxy) one of our users, or (inside a dialog) the peer's contact.
    std::optional<uri> next;
    if (request_.find(header_id::route)) {
      next = first_route(request_);
    } else {
      const uri& target = request_.request_uri();
      if (target.is_sip_family() && local_domain(target.host) && (target.port == 0 || is_us(target)))
        return local();
      next = target;
    }
    route_decision d;
    d.transactional = true;
    if (!dialog) {
      // Not a dialog this server record-routed: naming this server in a Route earns a request
      // nothing it would not get without one. Another host is reached only as an authenticated
      // local user's outbound call (sip.outbound), never relayed for anyone.
      if (ack()) return d;
      if (s_.outbound_authenticated) return on_shard(action::outbound, {}, here_);
      d = respond(403, "Relaying Not Allowed");
      d.transactional = true;
      return d;
    }
    std::string host;
    if (next && next->is_sip_family())
      host = next->host.starts_with("[") ? std::string{next->host.substr(1, next->host.size() - 2)} : std::string{next->host};
    // Over a flow the connection is the way: a WebSocket client's Contact names a made-up host
    // (RFC 7118 §5: "df7jal23ls0d.invalid"), and that is fine.
    if (!flow && (host.empty() || !is_ip_literal(host))) {
      if (ack()) return d;
      d = respond(404, "Next Hop Is Not An Address");
      d.transactional = true;
      return d;
    }
    if (request_.method() == "CANCEL") {
      d = respond(481);
      d.transactional = true;
      return d;
    }
    // Inside a dialog the next hop is named by address and reached over UDP, unless its side
    // is on a flow (above): this server opens no connections of its own yet.
    d.what = action::in_dialog;
    d.next_host = std::move(host);
    d.next_port = next->port_or_default();
    d.flow = flow;
    d.flow_transport = std::move(flow_transport);
    return d;
  }

  message& request_;
  std::size_t socket_;
  unsigned here_;
  const router_settings& s_;
};

}  // namespace

route_decision route_request(message& request, std::size_t socket, unsigned here, const router_settings& s) {
  return router(request, socket, here, s).decide();
}

}  // namespace junction::sip
