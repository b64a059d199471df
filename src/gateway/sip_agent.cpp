#include "gateway/sip_agent.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sip/message.hpp"
#include "sip/parser.hpp"
#include "sip/response.hpp"
#include "sip/syntax.hpp"
#include "users/credentials.hpp"

namespace junction::gateway {
namespace {

using sip::header_id;

sip::shared_bytes share(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

// host and port of a SIP URI (in or out of angle brackets); nothing when it does not parse.
std::optional<std::pair<std::string, std::uint16_t>> target_of(std::string_view text) {
  if (auto lt = text.find('<'); lt != std::string_view::npos) {
    auto gt = text.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    text = text.substr(lt + 1, gt - lt - 1);
  }
  auto u = sip::parse_uri(text);
  if (!u || !u->is_sip_family() || u->host.empty()) return std::nullopt;
  std::string host{u->host};
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return std::pair{host, u->port_or_default()};
}

// The URI of a name-addr or addr-spec header value, without display name and parameters.
std::string uri_of(const sip::address& a) { return std::string{a.uri_text}; }

// A Contact's URI as a Request-URI: without its headers part, which a Request-URI may not carry
// (RFC 3261 §19.1.1). Nothing when what is left is not a SIP URI with a host.
std::optional<std::string> target_uri(const sip::address& a) {
  auto uri = a.uri_text.substr(0, a.uri_text.find('?'));
  auto parsed = sip::parse_uri(uri);
  if (!parsed || !parsed->is_sip_family() || parsed->host.empty()) return std::nullopt;
  return std::string{uri};
}

// A From/To value without its tag parameter, kept as written otherwise.
std::string without_tag(std::string_view value) {
  auto gt = value.rfind('>');
  auto at = value.find(";tag=", gt == std::string_view::npos ? 0 : gt);
  if (at == std::string_view::npos) return std::string{value};
  auto end = value.find(';', at + 1);
  std::string out{value.substr(0, at)};
  if (end != std::string_view::npos) out += value.substr(end);
  return out;
}

// ";tag=x", or nothing for a peer that sent no tag (RFC 2543 phones).
std::string tag_param(std::string_view tag) { return tag.empty() ? std::string{} : ";tag=" + std::string{tag}; }

std::string quoted_display(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\" ";
}

// Where an in-dialog request goes: the first route (loose routing), else the remote target.
std::optional<std::pair<std::string, std::uint16_t>> next_hop(const std::vector<std::string>& route_set,
                                                              const std::string& remote_target) {
  return target_of(route_set.empty() ? remote_target : route_set.front());
}

std::string route_headers(const std::vector<std::string>& routes) {
  std::string out;
  for (const auto& r : routes) out += "Route: " + r + "\r\n";
  return out;
}

std::vector<std::string> record_routes(const sip::message& m) {
  std::vector<std::string> out;
  for (const auto& h : m.headers()) {
    if (h.id != header_id::record_route) continue;
    std::vector<std::string_view> items;
    if (!sip::split_list(h.value, items, 32)) continue;
    for (auto item : items) out.emplace_back(item);
  }
  return out;
}

}  // namespace

// What a request needs to be sent again (with credentials) or answered with ACK/CANCEL.
struct sip_agent::client_entry {
  purpose why = purpose::other;
  sip::client_transaction tx;
  std::string method, request_uri, headers, content_type, body, host, branch;
  std::uint16_t port = 0;
  std::uint32_t cseq = 0;
  bool auth_tried = false;
};

struct sip_agent::server_entry {
  sip::server_transaction tx;
  std::string host;
  std::uint16_t port = 0;
};

struct sip_agent::dialog {
  call_state state = call_state::idle;
  bool outgoing = false;
  std::string call_id, local_tag, remote_tag;
  std::string local_header, remote_header;  // From/To values without tags
  std::string remote_target;
  std::vector<std::string> route_set;
  std::uint32_t local_cseq = 0;
  std::optional<std::uint32_t> remote_cseq;
  std::string local_sdp, remote_sdp;
  std::string peer_uri;
  // Ours, before the answer: the INVITE's client transaction and whether to cancel it once a
  // provisional response allows (RFC 3261 §9.1).
  std::string invite_key;
  std::uint32_t invite_cseq = 0;
  bool cancel_wanted = false, cancelled = false;
  agent_clock::time_point ring_until;
  std::string ack;  // our ACK of their 2xx, sent again for each retransmitted 2xx
  // Theirs: the INVITE until answered, and our 2xx until ACKed (§13.3.1.4).
  std::optional<sip::message> pending_invite;
  std::string pending_key;
  std::string ok_bytes, ok_host;
  std::uint16_t ok_port = 0;
  bool ok_answers_reinvite = false;
  std::optional<agent_clock::time_point> ok_resend_at, ok_give_up_at;
  std::chrono::milliseconds ok_interval{0};
  // Re-INVITEs (§14): ours on its way (its transaction key and offer), or theirs waiting for
  // answer_reoffer.
  std::string reinvite_key, reinvite_sdp;
  std::optional<sip::message> pending_reoffer;
  std::string reoffer_key;
};

sip_agent::sip_agent(agent_settings settings, std::uint64_t seed) : s_(std::move(settings)), random_(seed) {
  if (s_.auth_user.empty()) s_.auth_user = s_.user;
  register_call_id_ = new_token(16) + "@" + s_.local_host;
}

sip_agent::~sip_agent() = default;

std::string sip_agent::new_token(std::size_t hex_digits) {
  std::string out;
  while (out.size() < hex_digits) out += fmt::format("{:016x}", random_());
  out.resize(hex_digits);
  return out;
}

std::string sip_agent::aor() const { return fmt::format("sip:{}@{}", s_.user, s_.domain); }

std::string sip_agent::contact() const {
  return fmt::format("<sip:{}@{}:{};transport=udp>", s_.user, s_.local_host, s_.local_port);
}

std::string sip_agent::via(const std::string& branch) const {
  return fmt::format("SIP/2.0/UDP {}:{};branch={};rport", s_.local_host, s_.local_port, branch);
}

std::vector<datagram> sip_agent::take_output() { return std::exchange(out_, {}); }
std::vector<agent_event_t> sip_agent::take_events() { return std::exchange(events_, {}); }

std::size_t sip_agent::transactions() const noexcept { return clients_.size() + servers_.size(); }

call_state sip_agent::state() const noexcept { return call_ ? call_->state : call_state::idle; }

const std::string& sip_agent::remote_sdp() const noexcept {
  static const std::string none;
  return call_ ? call_->remote_sdp : none;
}

const std::string& sip_agent::local_sdp() const noexcept {
  static const std::string none;
  return call_ ? call_->local_sdp : none;
}

std::string sip_agent::call_id() const { return call_ ? call_->call_id : std::string{}; }
std::string sip_agent::peer() const { return call_ ? call_->peer_uri : std::string{}; }

void sip_agent::emit_effects(const sip::tx_effects& effects, const std::string& host, std::uint16_t port) {
  for (const auto& b : effects.send) out_.push_back({*b, host, port});
}

sip_agent::client_entry& sip_agent::send_request(purpose why, std::string method, std::string request_uri,
                                               std::string headers, std::string content_type, std::string body,
                                               std::string host, std::uint16_t port, agent_clock::time_point now) {
  client_entry c{why, sip::client_transaction(false, false, s_.timers, nullptr), method, request_uri,
                 std::move(headers), std::move(content_type), std::move(body), std::move(host),
                 "z9hG4bK" + new_token(20), port, 0, false};
  c.cseq = method == "REGISTER" ? ++register_cseq_ : (call_ ? ++call_->local_cseq : 1);
  if (method == "INVITE" && call_) call_->invite_cseq = c.cseq;
  std::string wire = fmt::format(
      "{} {} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\n{}CSeq: {} {}\r\nUser-Agent: {}\r\n",
      method, request_uri, via(c.branch), c.headers, c.cseq, method, s_.user_agent);
  if (!c.body.empty()) wire += "Content-Type: " + c.content_type + "\r\n";
  wire += fmt::format("Content-Length: {}\r\n\r\n{}", c.body.size(), c.body);
  c.tx = sip::client_transaction(method == "INVITE", false, s_.timers, share(std::move(wire)));
  auto effects = c.tx.start(now);
  emit_effects(effects, c.host, c.port);
  auto key = c.branch + method;
  if (method == "INVITE" && call_) (why == purpose::reinvite ? call_->reinvite_key : call_->invite_key) = key;
  return clients_.insert_or_assign(std::move(key), std::move(c)).first->second;
}

// Registration ---------------------------------------------------------------------------------

void sip_agent::send_register(std::uint32_t expires, const std::string& authorization,
                              agent_clock::time_point now) {
  std::string headers = fmt::format("From: <{}>;tag={}\r\nTo: <{}>\r\nCall-ID: {}\r\n", aor(), new_token(10),
                                    aor(), register_call_id_);
  headers += fmt::format("Contact: {};expires={}\r\nExpires: {}\r\n", contact(), expires, expires);
  if (!authorization.empty()) headers += authorization;
  send_request(expires ? purpose::registration : purpose::unregistration, "REGISTER",
               "sip:" + s_.domain, std::move(headers), {}, {}, s_.proxy_host, s_.proxy_port, now);
}

void sip_agent::start_registration(agent_clock::time_point now) {
  unregistering_ = false;
  refresh_at_.reset();
  send_register(s_.register_expires, {}, now);
}

void sip_agent::unregister(agent_clock::time_point now) {
  refresh_at_.reset();
  unregistering_ = true;
  send_register(0, {}, now);
}

bool sip_agent::retry_with_credentials(client_entry& c, const sip::message& response, agent_clock::time_point now) {
  if (c.auth_tried) return false;
  const bool proxy = response.status() == 407;
  const auto* field = response.find(proxy ? header_id::proxy_authenticate : header_id::www_authenticate);
  // Take the first challenge whose algorithm this side computes (SHA-256 comes first, RFC 8760).
  std::string authorization;
  for (const auto& h : response.headers()) {
    if (!field || h.id != field->id) continue;
    auto challenge = users::parse_challenge(h.value);
    if (!challenge.ok()) continue;
    authorization = users::make_authorization(
        challenge.params, {.username = s_.auth_user, .password = s_.password, .method = c.method,
                           .uri = c.request_uri, .cnonce = new_token(16), .nonce_count = ++nonce_count_});
    if (!authorization.empty()) break;
  }
  if (authorization.empty()) return false;
  // The same request again with credentials: same Call-ID and From tag, a new CSeq and branch.
  std::string headers = c.headers;
  headers += fmt::format("{}: {}\r\n", proxy ? "Proxy-Authorization" : "Authorization", authorization);
  // The new transaction has tried, so a second challenge is a failure.
  send_request(c.why, c.method, c.request_uri, std::move(headers), c.content_type, c.body, c.host, c.port, now)
      .auth_tried = true;
  return true;
}

void sip_agent::on_register_response(client_entry& c, const sip::message& response, agent_clock::time_point now) {
  const int status = response.status();
  if (status < 200) return;
  if ((status == 401 || status == 407) && retry_with_credentials(c, response, now)) return;
  if (c.why == purpose::unregistration) {
    registered_ = false;
    events_.push_back(agent_event::unregistered{});
    return;
  }
  if (status >= 300) {
    registered_ = false;
    events_.push_back(agent_event::registration_failed{status, std::string{response.reason()}});
    return;
  }
  // The granted time: our Contact's expires, else Expires, else what we asked for.
  std::uint32_t granted = s_.register_expires;
  if (auto e = sip::delta_seconds(response.value(header_id::expires))) granted = *e;
  const std::string ours = fmt::format("sip:{}@{}:{}", s_.user, s_.local_host, s_.local_port);
  for (const auto& a : response.contacts())
    if (a.uri_text.starts_with(ours))
      if (auto e = sip::delta_seconds(a.params.value("expires"))) granted = *e;
  registered_ = true;
  refresh_at_ = now + std::chrono::seconds(std::max<std::uint32_t>(granted / 2, 1));
  events_.push_back(agent_event::registered{granted});
}

// Calls ----------------------------------------------------------------------------------------

bool sip_agent::invite(std::string_view target, std::string sdp, agent_clock::time_point now) {
  if (call_) return false;
  std::string uri{target};
  if (!uri.starts_with("sip:") && !uri.starts_with("sips:")) uri = "sip:" + uri;
  if (uri.find('@') == std::string::npos) uri += "@" + s_.domain;
  auto parsed = sip::parse_uri(uri);
  if (!parsed || !parsed->is_sip_family() || parsed->host.empty()) return false;
  call_ = std::make_unique<dialog>();
  auto& d = *call_;
  d.state = call_state::calling;
  d.outgoing = true;
  d.call_id = new_token(20) + "@" + s_.local_host;
  d.local_tag = new_token(10);
  d.local_header = (s_.display_name.empty() ? "" : quoted_display(s_.display_name)) + "<" + aor() + ">";
  d.remote_header = "<" + uri + ">";
  d.remote_target = uri;
  d.peer_uri = uri;
  d.local_sdp = std::move(sdp);
  d.ring_until = now + s_.ring_timeout;
  std::string headers = fmt::format("From: {};tag={}\r\nTo: {}\r\nCall-ID: {}\r\nContact: {}\r\n"
                                    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n",
                                    d.local_header, d.local_tag, d.remote_header, d.call_id, contact());
  send_request(purpose::invite, "INVITE", uri, std::move(headers), "application/sdp", d.local_sdp,
               s_.proxy_host, s_.proxy_port, now);
  return true;
}

void sip_agent::on_invite_response(client_entry& c, const sip::message& response, agent_clock::time_point now) {
  if (!call_ || response.call_id() != call_->call_id) return;
  auto& d = *call_;
  const int status = response.status();
  if (status < 200) {
    if (d.cancel_wanted && !d.cancelled) {
      // A provisional answer is what allows the CANCEL (RFC 3261 §9.1).
      send_cancel(c, now);
      return;
    }
    if (status > 100 && !d.cancel_wanted)
      events_.push_back(agent_event::ringing{status, std::string{response.reason()}});
    return;
  }
  if (status < 300) {
    if (d.state == call_state::confirmed) {  // a retransmitted 2xx: its ACK again
      if (auto where = next_hop(d.route_set, d.remote_target); where && !d.ack.empty())
        out_.push_back({d.ack, where->first, where->second});
      return;
    }
    d.state = call_state::confirmed;
    d.remote_tag = std::string{response.to().tag()};
    if (!response.contacts().empty())
      if (auto target = target_uri(response.contacts().front())) d.remote_target = std::move(*target);
    auto routes = record_routes(response);
    d.route_set.assign(routes.rbegin(), routes.rend());
    d.remote_sdp = std::string{response.body()};
    send_ack_2xx(now);
    if (d.cancel_wanted) {  // the answer crossed our CANCEL: the call is hung up at once
      send_in_dialog(purpose::bye, "BYE", {}, now);
      call_.reset();
      return;
    }
    events_.push_back(agent_event::answered{d.remote_sdp});
    return;
  }
  if ((status == 401 || status == 407) && !d.cancel_wanted && retry_with_credentials(c, response, now)) return;
  const bool ours = d.cancel_wanted;
  call_.reset();
  if (!ours) events_.push_back(agent_event::rejected{status, std::string{response.reason()}});
}

void sip_agent::send_cancel(const client_entry& invite, agent_clock::time_point now) {
  auto& d = *call_;
  d.cancelled = true;
  // Everything as in the INVITE but the method (RFC 3261 §9.1): the same branch, so the
  // proxy matches it to the INVITE's transaction.
  std::string headers = fmt::format("From: {};tag={}\r\nTo: {}\r\nCall-ID: {}\r\n", d.local_header, d.local_tag,
                                    d.remote_header, d.call_id);
  auto cancel = fmt::format(
      "CANCEL {} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\n{}CSeq: {} CANCEL\r\nUser-Agent: {}\r\n"
      "Content-Length: 0\r\n\r\n",
      invite.request_uri, via(invite.branch), headers, invite.cseq, s_.user_agent);
  client_entry ce{purpose::cancel, sip::client_transaction(false, false, s_.timers, share(std::move(cancel))),
                  "CANCEL", invite.request_uri, headers, {}, {}, invite.host, invite.branch, invite.port,
                  invite.cseq, true};
  emit_effects(ce.tx.start(now), ce.host, ce.port);
  clients_.insert_or_assign(invite.branch + "CANCEL", std::move(ce));
}

void sip_agent::on_reinvite_response(client_entry& c, const sip::message& response, agent_clock::time_point now) {
  if (!call_ || response.call_id() != call_->call_id) return;
  auto& d = *call_;
  const int status = response.status();
  if (status < 200) return;
  if (status < 300) {
    send_ack_2xx(now);
    if (d.reinvite_key.empty()) return;  // a retransmitted 2xx: only its ACK again
    d.reinvite_key.clear();
    d.local_sdp = std::move(d.reinvite_sdp);
    if (!response.body().empty()) d.remote_sdp.assign(response.body());
    events_.push_back(agent_event::reanswered{d.remote_sdp});
    return;
  }
  if ((status == 401 || status == 407) && retry_with_credentials(c, response, now)) return;
  d.reinvite_key.clear();
  // 481 and 408 say the dialog is gone on the other side (RFC 5057 §5.1, §5.2).
  if (status == 481 || status == 408) {
    drop_call(fmt::format("the re-INVITE was answered {} {}", status, response.reason()), now);
    return;
  }
  events_.push_back(agent_event::reinvite_failed{status, std::string{response.reason()}});
}

void sip_agent::on_reinvite(const sip::message& request, const std::string& key, std::string_view host,
                            std::uint16_t port, agent_clock::time_point now) {
  auto& d = *call_;
  // Offers cross (glare): theirs fails with 491 and is tried again later (§14.2).
  if (!d.reinvite_key.empty() || d.pending_reoffer) {
    respond(request, 491, host, port, now);
    return;
  }
  // Our last 2xx is not ACKed yet: 500 with Retry-After (§14.2).
  if (d.ok_resend_at) {
    std::string bytes = sip::make_response(request, 500, {.to_tag = d.local_tag,
                                                          .headers = {{"Retry-After", "1"},
                                                                      {"User-Agent", s_.user_agent}}});
    emit_effects(servers_.at(key).tx.respond(500, share(std::move(bytes)), now), std::string{host}, port);
    return;
  }
  d.pending_reoffer = request.clone();
  d.reoffer_key = key;
  if (request.body().empty()) {
    // No offer in it: ours goes in the 200, and their answer comes in the ACK, which this side
    // takes as the session going on unchanged.
    answer_reoffer(200, d.local_sdp, now);
    return;
  }
  d.remote_sdp.assign(request.body());
  events_.push_back(agent_event::reoffered{d.remote_sdp});
}

void sip_agent::send_ack_2xx(agent_clock::time_point) {
  auto& d = *call_;
  auto where = next_hop(d.route_set, d.remote_target);
  if (!where) return;
  d.ack = fmt::format(
      "ACK {} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\n{}From: {};tag={}\r\nTo: {}{}\r\nCall-ID: {}\r\n"
      "CSeq: {} ACK\r\nUser-Agent: {}\r\nContent-Length: 0\r\n\r\n",
      d.remote_target, via("z9hG4bK" + new_token(20)), route_headers(d.route_set), d.local_header, d.local_tag,
      d.remote_header, tag_param(d.remote_tag), d.call_id, d.invite_cseq, s_.user_agent);
  out_.push_back({d.ack, where->first, where->second});
}

void sip_agent::send_in_dialog(purpose why, std::string_view method, const std::string& body,
                               agent_clock::time_point now) {
  auto& d = *call_;
  auto where = next_hop(d.route_set, d.remote_target);
  if (!where) return;
  std::string headers = fmt::format("From: {};tag={}\r\nTo: {}{}\r\nCall-ID: {}\r\n{}", d.local_header,
                                    d.local_tag, d.remote_header, tag_param(d.remote_tag), d.call_id,
                                    route_headers(d.route_set));
  if (method == "INVITE") headers += fmt::format("Contact: {}\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n", contact());
  send_request(why, std::string{method}, d.remote_target, std::move(headers),
               body.empty() ? std::string{} : "application/sdp", body, where->first, where->second, now);
}

bool sip_agent::accept(std::string sdp, agent_clock::time_point now) {
  if (!call_ || call_->state != call_state::ringing || !call_->pending_invite) return false;
  auto& d = *call_;
  d.local_sdp = std::move(sdp);
  const auto& invite = *d.pending_invite;
  if (!servers_.contains(d.pending_key)) return false;
  std::string bytes = sip::make_response(
      invite, 200,
      {.to_tag = d.local_tag,
       .headers = {{"Contact", contact()}, {"Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"}, {"User-Agent", s_.user_agent}},
       .content_type = "application/sdp",
       .body = d.local_sdp,
       .copy_record_route = true});
  d.state = call_state::confirmed;
  d.ok_answers_reinvite = false;
  send_2xx(d.pending_key, std::move(bytes), now);
  d.pending_invite.reset();
  return true;
}

void sip_agent::send_2xx(const std::string& key, std::string bytes, agent_clock::time_point now) {
  auto& d = *call_;
  auto it = servers_.find(key);
  if (it == servers_.end()) return;
  emit_effects(it->second.tx.respond(200, share(bytes), now), it->second.host, it->second.port);
  d.ok_bytes = std::move(bytes);
  d.ok_host = it->second.host;
  d.ok_port = it->second.port;
  d.ok_interval = s_.timers.t1;
  d.ok_resend_at = now + d.ok_interval;
  d.ok_give_up_at = now + 64 * s_.timers.t1;
}

bool sip_agent::reinvite(std::string sdp, agent_clock::time_point now) {
  if (!call_ || call_->state != call_state::confirmed || !call_->reinvite_key.empty() || call_->pending_reoffer ||
      call_->ok_resend_at)
    return false;
  call_->reinvite_sdp = std::move(sdp);
  send_in_dialog(purpose::reinvite, "INVITE", call_->reinvite_sdp, now);
  return true;
}

bool sip_agent::answer_reoffer(int status, std::string sdp, agent_clock::time_point now) {
  if (!call_ || !call_->pending_reoffer) return false;
  auto& d = *call_;
  auto request = std::move(*d.pending_reoffer);
  d.pending_reoffer.reset();
  auto it = servers_.find(d.reoffer_key);
  if (it == servers_.end()) return false;
  if (status / 100 != 2) {
    respond(request, status < 300 || status > 699 ? 488 : status, it->second.host, it->second.port, now);
    return true;
  }
  d.local_sdp = std::move(sdp);
  std::string bytes = sip::make_response(
      request, 200, {.headers = {{"Contact", contact()}, {"User-Agent", s_.user_agent}},
                     .content_type = "application/sdp", .body = d.local_sdp, .copy_record_route = true});
  d.ok_answers_reinvite = true;
  send_2xx(d.reoffer_key, std::move(bytes), now);
  return true;
}

void sip_agent::drop_call(std::string why, agent_clock::time_point now) {
  send_in_dialog(purpose::bye, "BYE", {}, now);
  call_.reset();
  events_.push_back(agent_event::ended{std::move(why)});
}

bool sip_agent::reject(int status, std::string_view reason, agent_clock::time_point now) {
  if (!call_ || call_->state != call_state::ringing || !call_->pending_invite) return false;
  if (status < 300 || status > 699) status = 603;
  auto& d = *call_;
  auto it = servers_.find(d.pending_key);
  if (it != servers_.end()) {
    std::string bytes = sip::make_response(*d.pending_invite, status,
                                           {.reason = reason, .to_tag = d.local_tag,
                                            .headers = {{"User-Agent", s_.user_agent}}});
    emit_effects(it->second.tx.respond(status, share(std::move(bytes)), now), it->second.host, it->second.port);
  }
  call_.reset();
  return true;
}

void sip_agent::hang_up(agent_clock::time_point now) {
  if (!call_) return;
  auto& d = *call_;
  switch (d.state) {
    case call_state::calling: {
      d.cancel_wanted = true;
      auto it = clients_.find(d.invite_key);
      // CANCEL only once something answered (§9.1); until then it waits for the first 1xx,
      // and a final answer ends the attempt anyway.
      if (it != clients_.end() && it->second.tx.state() == sip::tx_state::proceeding && !d.cancelled) {
        send_cancel(it->second, now);
      }
      return;  // the dialog goes when the INVITE's final answer (487) comes
    }
    case call_state::ringing:
      reject(603, "Decline", now);
      return;
    case call_state::confirmed:
      send_in_dialog(purpose::bye, "BYE", {}, now);
      call_.reset();
      return;
    case call_state::idle:
      call_.reset();
      return;
  }
}

// Incoming -------------------------------------------------------------------------------------

void sip_agent::on_datagram(std::string_view bytes, std::string_view from_host, std::uint16_t from_port,
                            agent_clock::time_point now) {
  // Keep-alives (CRLF) and anything that is not SIP are dropped.
  auto parsed = sip::parse_message(bytes, sip::parse_limits{}, true);
  if (!parsed.msg) return;
  if (!parsed.ok()) {
    // A broken request gets its 400 (where there is a Via to answer along); the rest is dropped.
    if (parsed.answerable() && !parsed.msg->vias().empty())
      respond(*parsed.msg, parsed.status, from_host, from_port, now, parsed.reason);
    return;
  }
  if (parsed.msg->is_request()) on_request(*parsed.msg, from_host, from_port, now);
  else on_response(*parsed.msg, now);
}

void sip_agent::on_response(const sip::message& response, agent_clock::time_point now) {
  auto it = clients_.find(std::string{response.top_via().params.value("branch")} +
                          std::string{response.cseq_method()});
  if (it == clients_.end()) {
    // A 2xx retransmission after the INVITE (or re-INVITE) transaction ended: ACK it again.
    if (call_ && response.status() / 100 == 2 && response.cseq_method() == "INVITE" &&
        response.call_id() == call_->call_id && response.cseq() == call_->invite_cseq && !call_->ack.empty())
      if (auto where = next_hop(call_->route_set, call_->remote_target))
        out_.push_back({call_->ack, where->first, where->second});
    return;
  }
  auto& c = it->second;
  auto r = c.tx.on_response(response.status(), now);
  emit_effects(r.effects, c.host, c.port);
  if (r.needs_ack) {
    auto ack = fmt::format(
        "ACK {} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} ACK\r\n"
        "Content-Length: 0\r\n\r\n",
        c.request_uri, via(c.branch), response.value(header_id::from), response.value(header_id::to),
        response.call_id(), c.cseq);
    emit_effects(c.tx.send_ack(share(std::move(ack))), c.host, c.port);
  }
  if (!r.deliver) return;
  // `c` stays valid while handling adds entries (a retry with credentials): a map's nodes
  // never move.
  client_entry& entry = c;
  switch (entry.why) {
    case purpose::registration:
    case purpose::unregistration:
      on_register_response(entry, response, now);
      break;
    case purpose::invite:
      on_invite_response(entry, response, now);
      break;
    case purpose::reinvite:
      on_reinvite_response(entry, response, now);
      break;
    default:
      break;
  }
}

void sip_agent::respond(const sip::message& request, int status, std::string_view host, std::uint16_t port,
                        agent_clock::time_point now, std::string_view reason, std::string_view body) {
  // Our tag in the call's dialog; a fresh one for anything else (an OPTIONS, a 481, a 486).
  const std::string tag = call_ && request.call_id() == call_->call_id ? call_->local_tag : new_token(10);
  std::string bytes = sip::make_response(request, status,
                                         {.reason = reason,
                                          .to_tag = tag,
                                          .headers = {{"User-Agent", s_.user_agent}},
                                          .content_type = body.empty() ? std::string_view{} : "application/sdp",
                                          .body = body});
  const std::string key = std::string{request.top_via().params.value("branch")} + std::string{request.method()};
  auto it = servers_.find(key);
  if (it == servers_.end()) {
    out_.push_back({std::move(bytes), std::string{host}, port});
    return;
  }
  emit_effects(it->second.tx.respond(status, share(std::move(bytes)), now), it->second.host, it->second.port);
}

void sip_agent::on_request(const sip::message& request, std::string_view host, std::uint16_t port,
                           agent_clock::time_point now) {
  const std::string method{request.method()};
  const std::string branch{request.top_via().params.value("branch")};
  if (method == "ACK") {
    if (auto it = servers_.find(branch + "INVITE"); it != servers_.end()) {  // ACK of a failure
      emit_effects(it->second.tx.on_ack(now), it->second.host, it->second.port);
      return;
    }
    if (call_ && request.call_id() == call_->call_id && call_->ok_resend_at) {
      call_->ok_resend_at.reset();
      call_->ok_give_up_at.reset();
      if (!call_->ok_answers_reinvite) events_.push_back(agent_event::confirmed{});
    }
    return;
  }
  const std::string key = branch + method;
  if (auto it = servers_.find(key); it != servers_.end()) {  // a retransmission
    emit_effects(it->second.tx.on_retransmission(), it->second.host, it->second.port);
    return;
  }
  servers_.insert_or_assign(key, server_entry{sip::server_transaction(method == "INVITE", false, s_.timers),
                                              std::string{host}, port});
  const bool in_dialog = !request.to().tag().empty();

  if (method == "CANCEL") {
    auto pending = servers_.find(branch + "INVITE");
    if (pending == servers_.end() || !call_ || call_->state != call_state::ringing ||
        call_->pending_key != branch + "INVITE") {
      respond(request, 481, host, port, now);
      return;
    }
    respond(request, 200, host, port, now);
    std::string from = call_->peer_uri, to = aor();
    reject(487, {}, now);
    events_.push_back(agent_event::cancelled{std::move(from), std::move(to)});
    return;
  }
  if (method == "INVITE" && !in_dialog) {
    if (call_) {
      respond(request, 486, host, port, now);
      return;
    }
    // Where in-dialog requests will go; a call nothing could be sent back to is refused.
    auto target = request.contacts().empty() ? target_uri(request.from()) : target_uri(request.contacts().front());
    if (!target) {
      respond(request, 400, host, port, now, "Bad Contact");
      return;
    }
    call_ = std::make_unique<dialog>();
    auto& d = *call_;
    d.state = call_state::ringing;
    d.call_id.assign(request.call_id());
    d.local_tag = new_token(10);
    d.remote_tag.assign(request.from().tag());
    d.local_header = without_tag(request.value(header_id::to));
    d.remote_header = without_tag(request.value(header_id::from));
    d.remote_target = std::move(*target);
    d.route_set = record_routes(request);
    d.remote_cseq = request.cseq();
    d.remote_sdp.assign(request.body());
    d.peer_uri = uri_of(request.from());
    d.pending_invite = request.clone();
    d.pending_key = key;
    std::string ringing = sip::make_response(request, 180,
                                             {.to_tag = d.local_tag,
                                              .headers = {{"Contact", contact()}, {"User-Agent", s_.user_agent}},
                                              .copy_record_route = true});
    emit_effects(servers_.at(key).tx.respond(180, share(std::move(ringing)), now), std::string{host}, port);
    events_.push_back(agent_event::invited{d.peer_uri, uri_of(request.to()), d.remote_sdp});
    return;
  }
  const bool ours = call_ && request.call_id() == call_->call_id && in_dialog &&
                    request.to().tag() == call_->local_tag && request.from().tag() == call_->remote_tag;
  if (method == "OPTIONS" && !in_dialog) {
    respond(request, 200, host, port, now);
    return;
  }
  if (!ours) {
    respond(request, in_dialog ? 481 : 405, host, port, now);
    return;
  }
  if (call_->remote_cseq && request.cseq() <= *call_->remote_cseq) {
    respond(request, 500, host, port, now, "Out Of Order CSeq");
    return;
  }
  call_->remote_cseq = request.cseq();
  if (method == "BYE") {
    respond(request, 200, host, port, now);
    call_.reset();
    events_.push_back(agent_event::ended{"the other party hung up"});
    return;
  }
  if (method == "INVITE") {
    on_reinvite(request, key, host, port, now);
    return;
  }
  respond(request, method == "INFO" || method == "OPTIONS" || method == "UPDATE" ? 200 : 405, host, port, now);
}

// Time -----------------------------------------------------------------------------------------

void sip_agent::on_timer(agent_clock::time_point now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    auto& c = it->second;
    if (auto at = c.tx.deadline(); at && *at <= now) {
      auto effects = c.tx.on_timer(now);
      emit_effects(effects, c.host, c.port);
      if (effects.timed_out) {
        if (c.why == purpose::registration) {
          registered_ = false;
          events_.push_back(agent_event::registration_failed{408, "Request Timeout"});
        } else if (c.why == purpose::unregistration) {
          registered_ = false;
          events_.push_back(agent_event::unregistered{});
        } else if (c.why == purpose::invite && call_ && call_->invite_key == it->first) {
          const bool ours = call_->cancel_wanted;
          call_.reset();
          if (!ours) events_.push_back(agent_event::rejected{408, "Request Timeout"});
        } else if (c.why == purpose::reinvite && call_ && call_->reinvite_key == it->first) {
          // No answer to a re-INVITE: the other side is gone (RFC 5057 §5.1).
          drop_call("no answer to the re-INVITE", now);
        }
      }
    }
    if (c.tx.state() == sip::tx_state::terminated) it = clients_.erase(it);
    else ++it;
  }
  for (auto it = servers_.begin(); it != servers_.end();) {
    if (auto at = it->second.tx.deadline(); at && *at <= now)
      emit_effects(it->second.tx.on_timer(now), it->second.host, it->second.port);
    if (it->second.tx.state() == sip::tx_state::terminated) it = servers_.erase(it);
    else ++it;
  }
  if (call_) {
    auto& d = *call_;
    if (d.ok_give_up_at && *d.ok_give_up_at <= now) {
      // No ACK for our 2xx: the call is over (§13.3.1.4), with a BYE to be sure.
      drop_call("no ACK for the answer", now);
    } else if (d.ok_resend_at && *d.ok_resend_at <= now) {
      out_.push_back({d.ok_bytes, d.ok_host, d.ok_port});
      d.ok_interval = std::min(2 * d.ok_interval, s_.timers.t2);
      d.ok_resend_at = now + d.ok_interval;
    } else if (d.state == call_state::calling && !d.cancel_wanted && d.ring_until <= now) {
      hang_up(now);
      events_.push_back(agent_event::rejected{408, "No Answer"});
    }
  }
  if (refresh_at_ && *refresh_at_ <= now && !unregistering_) {
    refresh_at_.reset();
    send_register(s_.register_expires, {}, now);
  }
}

std::optional<agent_clock::time_point> sip_agent::deadline() const {
  std::optional<agent_clock::time_point> at;
  auto consider = [&](std::optional<agent_clock::time_point> t) {
    if (t && (!at || *t < *at)) at = t;
  };
  for (const auto& [k, c] : clients_) consider(c.tx.deadline());
  for (const auto& [k, e] : servers_) consider(e.tx.deadline());
  if (call_) {
    consider(call_->ok_resend_at);
    consider(call_->ok_give_up_at);
    if (call_->state == call_state::calling && !call_->cancel_wanted) consider(call_->ring_until);
  }
  consider(refresh_at_);
  return at;
}

}  // namespace junction::gateway
