#include "sip/ua/invite_session.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sip/message.hpp"
#include "sip/response.hpp"
#include "sip/syntax.hpp"

namespace junction::sip::ua {
namespace {

constexpr std::string_view allow = "INVITE, ACK, CANCEL, BYE, OPTIONS";

// host and port of a SIP URI (in or out of angle brackets); nothing when it does not parse.
std::optional<std::pair<std::string, std::uint16_t>> target_of(std::string_view text) {
  if (auto lt = text.find('<'); lt != std::string_view::npos) {
    auto gt = text.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    text = text.substr(lt + 1, gt - lt - 1);
  }
  auto u = parse_uri(text);
  if (!u || !u->is_sip_family() || u->host.empty()) return std::nullopt;
  std::string host{u->host};
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return std::pair{host, u->port_or_default()};
}

// A Contact's URI as a Request-URI: without its headers part, which a Request-URI may not carry
// (RFC 3261 §19.1.1). Nothing when what is left is not a SIP URI with a host.
std::optional<std::string> target_uri(const address& a) {
  auto uri = a.uri_text.substr(0, a.uri_text.find('?'));
  auto parsed = parse_uri(uri);
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

std::vector<std::string> record_routes(const message& m) {
  std::vector<std::string> out;
  for (const auto& h : m.headers()) {
    if (h.id != header_id::record_route) continue;
    list_items items;
    if (!split_list(h.value, items, 32)) continue;
    for (auto item : items) out.emplace_back(item);
  }
  return out;
}

}  // namespace

struct invite_session::dialog {
  call_state state = call_state::idle;
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
  std::uint32_t invite_cseq = 0;  // of the last INVITE or re-INVITE sent, for its ACK
  bool cancel_wanted = false, cancelled = false;
  clock::time_point ring_until;
  std::string ack;  // our ACK of their 2xx, sent again for each retransmitted 2xx
  // Theirs: the INVITE until answered, and our 2xx until ACKed (§13.3.1.4).
  std::optional<message> pending_invite;
  std::string pending_key;
  std::string ok_bytes, ok_host;
  std::uint16_t ok_port = 0;
  bool ok_answers_reinvite = false;
  std::optional<clock::time_point> ok_resend_at, ok_give_up_at;
  std::chrono::milliseconds ok_interval{0};
  // Re-INVITEs (§14): ours on its way (its transaction key and offer), or theirs waiting for
  // answer_reoffer.
  std::string reinvite_key, reinvite_sdp;
  std::optional<message> pending_reoffer;
  std::string reoffer_key;
};

invite_session::invite_session(agent_core& core) : core_(core) {}
invite_session::~invite_session() = default;

call_state invite_session::state() const noexcept { return call_ ? call_->state : call_state::idle; }

const std::string& invite_session::remote_sdp() const noexcept {
  static const std::string none;
  return call_ ? call_->remote_sdp : none;
}

const std::string& invite_session::local_sdp() const noexcept {
  static const std::string none;
  return call_ ? call_->local_sdp : none;
}

std::string invite_session::call_id() const { return call_ ? call_->call_id : std::string{}; }
std::string invite_session::peer() const { return call_ ? call_->peer_uri : std::string{}; }

std::string invite_session::tag_for(const message& request) {
  return call_ && request.call_id() == call_->call_id ? call_->local_tag : core_.token(10);
}

void invite_session::respond(const message& request, int status, std::string_view host, std::uint16_t port,
                             clock::time_point now, std::string_view reason) {
  const std::string tag = tag_for(request);
  core_.respond(request, status, {.reason = reason, .to_tag = tag}, host, port, now);
}

// Outgoing -------------------------------------------------------------------------------------

bool invite_session::invite(std::string_view target, std::string sdp, clock::time_point now) {
  if (call_) return false;
  const auto& s = core_.config();
  std::string uri{target};
  if (!uri.starts_with("sip:") && !uri.starts_with("sips:")) uri = "sip:" + uri;
  if (uri.find('@') == std::string::npos) uri += "@" + s.domain;
  auto parsed = parse_uri(uri);
  if (!parsed || !parsed->is_sip_family() || parsed->host.empty()) return false;
  call_ = std::make_unique<dialog>();
  auto& d = *call_;
  d.state = call_state::calling;
  d.call_id = core_.token(20) + "@" + s.local_host;
  d.local_tag = core_.token(10);
  d.local_header = (s.display_name.empty() ? "" : quoted_display(s.display_name)) + "<" + core_.aor() + ">";
  d.remote_header = "<" + uri + ">";
  d.remote_target = uri;
  d.peer_uri = uri;
  d.local_sdp = std::move(sdp);
  d.ring_until = now + s.ring_timeout;
  request_spec r{.method = "INVITE", .request_uri = uri, .from = d.local_header + ";tag=" + d.local_tag,
                 .to = d.remote_header, .call_id = d.call_id, .cseq = ++d.local_cseq, .contact = core_.contact(),
                 .headers = {{"Allow", std::string{allow}}}, .content_type = "application/sdp", .body = d.local_sdp};
  d.invite_cseq = r.cseq;
  d.invite_key = core_.send(purpose::invite, std::move(r), s.proxy_host, s.proxy_port, now);
  return true;
}

request_spec invite_session::in_dialog(std::string_view method) {
  auto& d = *call_;
  request_spec r{.method = std::string{method}, .request_uri = d.remote_target, .routes = d.route_set,
                 .from = d.local_header + ";tag=" + d.local_tag, .to = d.remote_header + tag_param(d.remote_tag),
                 .call_id = d.call_id};
  if (method == "INVITE") {
    r.contact = core_.contact();
    r.headers.emplace_back("Allow", std::string{allow});
  }
  return r;
}

void invite_session::send_in_dialog(purpose why, std::string_view method, const std::string& body,
                                    clock::time_point now) {
  auto& d = *call_;
  auto where = next_hop(d.route_set, d.remote_target);
  if (!where) return;
  auto r = in_dialog(method);
  r.cseq = ++d.local_cseq;
  if (!body.empty()) {
    r.content_type = "application/sdp";
    r.body = body;
  }
  const bool invite = method == "INVITE";
  if (invite) d.invite_cseq = r.cseq;
  auto key = core_.send(why, std::move(r), where->first, where->second, now);
  if (invite) (why == purpose::reinvite ? d.reinvite_key : d.invite_key) = std::move(key);
}

void invite_session::send_ack_2xx() {
  auto& d = *call_;
  auto where = next_hop(d.route_set, d.remote_target);
  if (!where) return;
  auto r = in_dialog("ACK");
  r.cseq = d.invite_cseq;
  r.headers.emplace_back("User-Agent", core_.config().user_agent);
  d.ack = make_request(r, core_.via("z9hG4bK" + core_.token(20)));
  core_.send_raw(d.ack, where->first, where->second);
}

void invite_session::on_response(client_entry& c, const std::string& key, const message& response,
                                 clock::time_point now) {
  if (!call_ || response.call_id() != call_->call_id) return;
  if (c.why == purpose::invite) on_invite_response(c, key, response, now);
  else if (c.why == purpose::reinvite) on_reinvite_response(c, response, now);
}

void invite_session::on_invite_response(client_entry& c, const std::string& key, const message& response,
                                        clock::time_point now) {
  auto& d = *call_;
  const int status = response.status();
  if (status < 200) {
    if (d.cancel_wanted && !d.cancelled) {
      // A provisional answer is what allows the CANCEL (RFC 3261 §9.1).
      d.cancelled = true;
      core_.send_cancel(key, now);
      return;
    }
    if (status > 100 && !d.cancel_wanted) core_.raise(event::ringing{status, std::string{response.reason()}});
    return;
  }
  if (status < 300) {
    if (d.state == call_state::confirmed) {  // a retransmitted 2xx: its ACK again
      if (auto where = next_hop(d.route_set, d.remote_target); where && !d.ack.empty())
        core_.send_raw(d.ack, where->first, where->second);
      return;
    }
    d.state = call_state::confirmed;
    d.remote_tag = std::string{response.to().tag()};
    if (!response.contacts().empty())
      if (auto target = target_uri(response.contacts().front())) d.remote_target = std::move(*target);
    auto routes = record_routes(response);
    d.route_set.assign(routes.rbegin(), routes.rend());
    d.remote_sdp = std::string{response.body()};
    send_ack_2xx();
    if (d.cancel_wanted) {  // the answer crossed our CANCEL: the call is hung up at once
      send_in_dialog(purpose::bye, "BYE", {}, now);
      call_.reset();
      return;
    }
    core_.raise(event::answered{d.remote_sdp});
    return;
  }
  if ((status == 401 || status == 407) && !d.cancel_wanted) {
    const auto cseq = d.local_cseq + 1;
    if (auto again = core_.retry_with_credentials(c, response, cseq, now)) {
      d.local_cseq = d.invite_cseq = cseq;
      d.invite_key = std::move(*again);
      return;
    }
  }
  const bool ours = d.cancel_wanted;
  call_.reset();
  if (!ours) core_.raise(event::rejected{status, std::string{response.reason()}});
}

void invite_session::on_reinvite_response(client_entry& c, const message& response, clock::time_point now) {
  auto& d = *call_;
  const int status = response.status();
  if (status < 200) return;
  if (status < 300) {
    send_ack_2xx();
    if (d.reinvite_key.empty()) return;  // a retransmitted 2xx: only its ACK again
    d.reinvite_key.clear();
    d.local_sdp = std::move(d.reinvite_sdp);
    if (!response.body().empty()) d.remote_sdp.assign(response.body());
    core_.raise(event::reanswered{d.remote_sdp});
    return;
  }
  if (status == 401 || status == 407) {
    const auto cseq = d.local_cseq + 1;
    if (auto again = core_.retry_with_credentials(c, response, cseq, now)) {
      d.local_cseq = d.invite_cseq = cseq;
      d.reinvite_key = std::move(*again);
      return;
    }
  }
  d.reinvite_key.clear();
  // 481 and 408 say the dialog is gone on the other side (RFC 5057 §5.1, §5.2).
  if (status == 481 || status == 408) {
    drop_call(fmt::format("the re-INVITE was answered {} {}", status, response.reason()), now);
    return;
  }
  core_.raise(event::reinvite_failed{status, std::string{response.reason()}});
}

void invite_session::on_stray_response(const message& response) {
  // A 2xx retransmission after the INVITE (or re-INVITE) transaction ended: ACK it again.
  if (call_ && response.status() / 100 == 2 && response.cseq_method() == "INVITE" &&
      response.call_id() == call_->call_id && response.cseq() == call_->invite_cseq && !call_->ack.empty())
    if (auto where = next_hop(call_->route_set, call_->remote_target))
      core_.send_raw(call_->ack, where->first, where->second);
}

bool invite_session::reinvite(std::string sdp, clock::time_point now) {
  if (!call_ || call_->state != call_state::confirmed || !call_->reinvite_key.empty() || call_->pending_reoffer ||
      call_->ok_resend_at)
    return false;
  call_->reinvite_sdp = std::move(sdp);
  send_in_dialog(purpose::reinvite, "INVITE", call_->reinvite_sdp, now);
  return true;
}

void invite_session::hang_up(clock::time_point now) {
  if (!call_) return;
  auto& d = *call_;
  switch (d.state) {
    case call_state::calling: {
      d.cancel_wanted = true;
      auto* invite = core_.transactions().client(d.invite_key);
      // CANCEL only once something answered (§9.1); until then it waits for the first 1xx,
      // and a final answer ends the attempt anyway.
      if (invite && invite->tx.state() == tx_state::proceeding && !d.cancelled) {
        d.cancelled = true;
        core_.send_cancel(d.invite_key, now);
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

void invite_session::drop_call(std::string why, clock::time_point now) {
  send_in_dialog(purpose::bye, "BYE", {}, now);
  call_.reset();
  core_.raise(event::ended{std::move(why)});
}

// Incoming -------------------------------------------------------------------------------------

bool invite_session::accept(std::string sdp, clock::time_point now) {
  if (!call_ || call_->state != call_state::ringing || !call_->pending_invite) return false;
  auto& d = *call_;
  if (!core_.transactions().has_server(d.pending_key)) return false;
  d.local_sdp = std::move(sdp);
  const auto contact = core_.contact();
  std::string bytes = make_response(*d.pending_invite, 200,
                                    {.to_tag = d.local_tag,
                                     .headers = {{"Contact", contact},
                                                 {"Allow", allow},
                                                 {"User-Agent", core_.config().user_agent}},
                                     .content_type = "application/sdp",
                                     .body = d.local_sdp,
                                     .copy_record_route = true});
  d.state = call_state::confirmed;
  d.ok_answers_reinvite = false;
  send_2xx(d.pending_key, std::move(bytes), now);
  d.pending_invite.reset();
  return true;
}

void invite_session::send_2xx(const std::string& key, std::string bytes, clock::time_point now) {
  auto& d = *call_;
  auto* server = core_.transactions().server(key);
  if (!server) return;
  d.ok_bytes = bytes;
  d.ok_host = server->host;
  d.ok_port = server->port;
  core_.respond_in(key, 200, std::move(bytes), now);
  d.ok_interval = core_.config().timers.t1;
  d.ok_resend_at = now + d.ok_interval;
  d.ok_give_up_at = now + 64 * core_.config().timers.t1;
}

bool invite_session::answer_reoffer(int status, std::string sdp, clock::time_point now) {
  if (!call_ || !call_->pending_reoffer) return false;
  auto& d = *call_;
  auto request = std::move(*d.pending_reoffer);
  d.pending_reoffer.reset();
  auto* server = core_.transactions().server(d.reoffer_key);
  if (!server) return false;
  if (status / 100 != 2) {
    respond(request, status < 300 || status > 699 ? 488 : status, server->host, server->port, now);
    return true;
  }
  d.local_sdp = std::move(sdp);
  const auto contact = core_.contact();
  std::string bytes =
      make_response(request, 200,
                    {.headers = {{"Contact", contact}, {"User-Agent", core_.config().user_agent}},
                     .content_type = "application/sdp", .body = d.local_sdp, .copy_record_route = true});
  d.ok_answers_reinvite = true;
  send_2xx(d.reoffer_key, std::move(bytes), now);
  return true;
}

bool invite_session::reject(int status, std::string_view reason, clock::time_point now) {
  if (!call_ || call_->state != call_state::ringing || !call_->pending_invite) return false;
  if (status < 300 || status > 699) status = 603;
  auto& d = *call_;
  if (core_.transactions().has_server(d.pending_key)) {
    std::string bytes = make_response(*d.pending_invite, status,
                                      {.reason = reason, .to_tag = d.local_tag,
                                       .headers = {{"User-Agent", core_.config().user_agent}}});
    core_.respond_in(d.pending_key, status, std::move(bytes), now);
  }
  call_.reset();
  return true;
}

void invite_session::on_ack(const message& ack) {
  if (call_ && ack.call_id() == call_->call_id && call_->ok_resend_at) {
    call_->ok_resend_at.reset();
    call_->ok_give_up_at.reset();
    if (!call_->ok_answers_reinvite) core_.raise(event::confirmed{});
  }
}

void invite_session::on_new_invite(const message& request, const std::string& key, std::string_view host,
                                   std::uint16_t port, clock::time_point now) {
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
  d.local_tag = core_.token(10);
  d.remote_tag.assign(request.from().tag());
  d.local_header = without_tag(request.value(header_id::to));
  d.remote_header = without_tag(request.value(header_id::from));
  d.remote_target = std::move(*target);
  d.route_set = record_routes(request);
  d.remote_cseq = request.cseq();
  d.remote_sdp.assign(request.body());
  d.peer_uri = std::string{request.from().uri_text};
  d.pending_invite = request.clone();
  d.pending_key = key;
  const auto contact = core_.contact();
  std::string ringing = make_response(request, 180,
                                      {.to_tag = d.local_tag,
                                       .headers = {{"Contact", contact}, {"User-Agent", core_.config().user_agent}},
                                       .copy_record_route = true});
  core_.respond_in(key, 180, std::move(ringing), now);
  core_.raise(event::invited{d.peer_uri, std::string{request.to().uri_text}, d.remote_sdp});
}

void invite_session::on_reinvite(const message& request, const std::string& key, std::string_view host,
                                 std::uint16_t port, clock::time_point now) {
  auto& d = *call_;
  // Offers cross (glare): theirs fails with 491 and is tried again later (§14.2).
  if (!d.reinvite_key.empty() || d.pending_reoffer) {
    respond(request, 491, host, port, now);
    return;
  }
  // Our last 2xx is not ACKed yet: 500 with Retry-After (§14.2).
  if (d.ok_resend_at) {
    core_.respond(request, 500, {.to_tag = d.local_tag, .headers = {{"Retry-After", "1"}}}, host, port, now);
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
  core_.raise(event::reoffered{d.remote_sdp});
}

void invite_session::on_request(const message& request, const std::string& key, std::string_view host,
                                std::uint16_t port, clock::time_point now) {
  const std::string_view method = request.method();
  const std::string branch{request.top_via().params.value("branch")};
  const bool in_dialog = !request.to().tag().empty();
  if (method == "CANCEL") {
    if (!core_.transactions().has_server(branch + "INVITE") || !call_ || call_->state != call_state::ringing ||
        call_->pending_key != branch + "INVITE") {
      respond(request, 481, host, port, now);
      return;
    }
    respond(request, 200, host, port, now);
    std::string from = call_->peer_uri, to = core_.aor();
    reject(487, {}, now);
    core_.raise(event::cancelled{std::move(from), std::move(to)});
    return;
  }
  if (method == "INVITE" && !in_dialog) {
    on_new_invite(request, key, host, port, now);
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
    core_.raise(event::ended{"the other party hung up"});
    return;
  }
  if (method == "INVITE") {
    on_reinvite(request, key, host, port, now);
    return;
  }
  respond(request, method == "INFO" || method == "OPTIONS" || method == "UPDATE" ? 200 : 405, host, port, now);
}

// Time -----------------------------------------------------------------------------------------

void invite_session::on_timeout(const std::string& key, const client_entry& c, clock::time_point now) {
  if (!call_) return;
  if (c.why == purpose::invite && call_->invite_key == key) {
    const bool ours = call_->cancel_wanted;
    call_.reset();
    if (!ours) core_.raise(event::rejected{408, "Request Timeout"});
  } else if (c.why == purpose::reinvite && call_->reinvite_key == key) {
    // No answer to a re-INVITE: the other side is gone (RFC 5057 §5.1).
    drop_call("no answer to the re-INVITE", now);
  }
}

void invite_session::on_timer(clock::time_point now) {
  if (!call_) return;
  auto& d = *call_;
  if (d.ok_give_up_at && *d.ok_give_up_at <= now) {
    // No ACK for our 2xx: the call is over (§13.3.1.4), with a BYE to be sure.
    drop_call("no ACK for the answer", now);
  } else if (d.ok_resend_at && *d.ok_resend_at <= now) {
    core_.send_raw(d.ok_bytes, d.ok_host, d.ok_port);
    d.ok_interval = std::min(2 * d.ok_interval, core_.config().timers.t2);
    d.ok_resend_at = now + d.ok_interval;
  } else if (d.state == call_state::calling && !d.cancel_wanted && d.ring_until <= now) {
    hang_up(now);
    core_.raise(event::rejected{408, "No Answer"});
  }
}

std::optional<clock::time_point> invite_session::deadline() const noexcept {
  if (!call_) return std::nullopt;
  std::optional<clock::time_point> at;
  auto consider = [&](std::optional<clock::time_point> t) {
    if (t && (!at || *t < *at)) at = t;
  };
  consider(call_->ok_resend_at);
  consider(call_->ok_give_up_at);
  if (call_->state == call_state::calling && !call_->cancel_wanted) consider(call_->ring_until);
  return at;
}

}  // namespace junction::sip::ua
