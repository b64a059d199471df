#include "sip/ua/user_agent.hpp"

#include "sip/message.hpp"
#include "sip/parser.hpp"
#include "sip/ua/agent_core.hpp"
#include "sip/ua/invite_session.hpp"
#include "sip/ua/registration_client.hpp"

namespace junction::sip::ua {
namespace {

shared_bytes share(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

}  // namespace

user_agent::user_agent(settings s, std::uint64_t seed)
    : core_(std::make_unique<agent_core>(std::move(s), seed)),
      registration_(std::make_unique<registration_client>(*core_)),
      session_(std::make_unique<invite_session>(*core_)) {}

user_agent::~user_agent() = default;

std::vector<datagram> user_agent::take_output() { return core_->take_output(); }
std::vector<event_t> user_agent::take_events() { return core_->take_events(); }
std::size_t user_agent::transactions() const noexcept { return core_->transactions().size(); }

void user_agent::on_datagram(std::string_view bytes, std::string_view from_host, std::uint16_t from_port,
                             clock::time_point now) {
  // Keep-alives (CRLF) and anything that is not SIP are dropped.
  auto parsed = parse_message(bytes, parse_limits{}, true);
  if (!parsed.msg) return;
  auto& table = core_->transactions();
  if (!parsed.ok()) {
    // A broken request gets its 400 (where there is a Via to answer along); the rest is dropped.
    if (parsed.answerable() && !parsed.msg->vias().empty()) {
      const auto tag = session_->tag_for(*parsed.msg);
      core_->respond(*parsed.msg, parsed.status(), {.reason = parsed.reason(), .to_tag = tag}, from_host, from_port, now);
    }
    return;
  }
  const auto& m = *parsed.msg;
  if (!m.is_request()) {
    const std::string key = std::string{m.top_via().params.value("branch")} + std::string{m.cseq_method()};
    auto* c = table.client(key);
    if (!c) {
      session_->on_stray_response(m);
      return;
    }
    auto r = c->tx.on_response(m.status(), now);
    core_->emit(r.effects, c->host, c->port);
    if (r.needs_ack) {
      // The ACK of a failure (§17.1.1.3): the INVITE's Request-URI, Route set, Call-ID, CSeq
      // number and branch, with From and To as the response has them.
      request_spec ack{.method = "ACK", .request_uri = c->request.request_uri, .routes = c->request.routes,
                       .from = std::string{m.value(header_id::from)}, .to = std::string{m.value(header_id::to)},
                       .call_id = std::string{m.call_id()}, .cseq = c->request.cseq};
      core_->emit(c->tx.send_ack(share(make_request(ack, core_->via(c->branch)))), c->host, c->port);
    }
    if (r.deliver) {
      // `c` stays valid while handling adds entries (a retry with credentials): entries are
      // node-based.
      if (c->why == purpose::registration || c->why == purpose::unregistration)
        registration_->on_response(*c, m, now);
      else
        session_->on_response(*c, key, m, now);
    }
    table.touched_client(key);
    return;
  }
  const std::string branch{m.top_via().params.value("branch")};
  if (m.method() == "ACK") {
    const std::string invite = branch + "INVITE";
    if (auto* s = table.server(invite)) {  // the ACK of a failure
      core_->emit(s->tx.on_ack(now), s->host, s->port);
      table.touched_server(invite);
      return;
    }
    session_->on_ack(m);
    return;
  }
  const std::string key = branch + std::string{m.method()};
  if (auto* s = table.server(key)) {  // a retransmission
    core_->emit(s->tx.on_retransmission(), s->host, s->port);
    return;
  }
  table.put_server(key, server_entry{server_transaction(m.method() == "INVITE", false, core_->config().timers),
                                     std::string{from_host}, from_port});
  session_->on_request(m, key, from_host, from_port, now);
}

void user_agent::on_timer(clock::time_point now) {
  std::vector<std::pair<std::string, client_entry>> timed_out;
  core_->transactions().run_timers(
      now,
      [&](const std::string& key, client_entry& c, const tx_effects& effects) {
        core_->emit(effects, c.host, c.port);
        if (effects.timed_out) timed_out.emplace_back(key, c);
      },
      [&](const std::string&, server_entry& s, const tx_effects& effects) { core_->emit(effects, s.host, s.port); });
  for (const auto& [key, c] : timed_out) {
    if (c.why == purpose::registration || c.why == purpose::unregistration) registration_->on_timeout(c);
    else session_->on_timeout(key, c, now);
  }
  session_->on_timer(now);
  registration_->on_timer(now);
}

std::optional<clock::time_point> user_agent::deadline() const {
  std::optional<clock::time_point> at;
  auto consider = [&](std::optional<clock::time_point> t) {
    if (t && (!at || *t < *at)) at = t;
  };
  consider(core_->transactions().deadline());
  consider(session_->deadline());
  consider(registration_->deadline());
  return at;
}

}  // namespace junction::sip::ua
