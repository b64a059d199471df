#include "sip/proxy.hpp"
#include "sip/route_mark.hpp"

#include "sip/media_bridge.hpp"
#include "sip/media_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/spawn.hpp"
#include "sip/parser.hpp"
#include "sip/proxy_messages.hpp"
#include "sip/response.hpp"

namespace junction::sip {
namespace asio = boost::asio;

namespace {

// What was sent is parsed back, so ACK and CANCEL can copy its Via and Route set exactly.
const parse_limits roomy{1 << 20, 4096, 1 << 16, 1024};

shared_bytes share(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

// A response as the previous hop should see it: without the Via this proxy added.
std::string without_our_via(message& response) {
  response.remove_first_element(header_id::via);
  return response.serialize();
}

}  // namespace

struct proxy_engine::context {
  message request;  // as the caller sent it
  origin reply_to;
  std::string server_key;
  bool invite = false;
  struct branch {
    std::string id;  // the Via branch
    origin peer;
    message sent;
    int final_status = 0;
    bool provisional = false;
    bool cancelled = false;
    bool bridged = false;  // its offer went through the call's media bridge (media_bridge.hpp)
  };
  std::vector<branch> branches;
  int best_status = 0;
  std::string best_bytes;
  bool final_relayed = false;
  bool cancel_requested = false;  // cancel each branch as soon as it may be (§9.1: after a 1xx)
  std::function<void(int)> on_final;  // requests this server originated: who waits for the answer
};

struct proxy_engine::server_entry {
  server_transaction tx;
  origin reply_to;
  std::shared_ptr<context> ctx;
};

struct proxy_engine::client_entry {
  client_transaction tx;
  origin peer;
  std::shared_ptr<context> ctx;  // null for a CANCEL this proxy sent
  std::size_t branch = 0;
};

proxy_engine::proxy_engine(shard_service& service, shard& home, const timer_values& timers)
    : service_(service), home_(home), timers_(timers),
      table_(std::make_unique<transaction_table<client_entry, server_entry>>()), timer_(home.context()) {
  next_branch_ = std::random_device{}() * 0x100000000ull + std::random_device{}();
}

proxy_engine::~proxy_engine() = default;

// Transaction timers fire on a grid. Retransmissions on 20 ms: they are at least 500 ms apart
// (T1), so 20 ms late is 4 % at most. The ends of transactions on 500 ms: a timeout (32 s or
// more) or the wait for stray retransmissions (Timers D, I, J, K) only frees the transaction, and
// a shard ending hundreds of them a second woke 50 times a second for them on the 20 ms grid,
// each wake-up on this project's VMs costing more than a request (docs/benchmarks.md).
std::optional<tx_clock::time_point> proxy_engine::next_wake() {
  using std::chrono::milliseconds;
  return table_->wake_at(std::chrono::duration_cast<tx_clock::duration>(milliseconds(20)),
                         std::chrono::duration_cast<tx_clock::duration>(milliseconds(500)));
}

std::size_t proxy_engine::transactions() const noexcept { return table_->size(); }

void proxy_engine::start() {
  asio::co_spawn(
      home_.context(),
      [this]() -> asio::awaitable<void> {
        home_.on_drain([this] { timer_.cancel(); });
        while (!home_.draining()) {
          auto next = next_wake();
          armed_for_ = next ? *next : tx_clock::time_point::max();
          timer_.expires_at(armed_for_);
          co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
          on_timers(tx_clock::now());
        }
      },
      log_failure{"sip transaction timers"});
}

void proxy_engine::send_effects(const tx_effects& effects, const origin& to) {
  for (const auto& bytes : effects.send) service_.send(std::string(*bytes), to);
}

void proxy_engine::rearm() {
  if (auto at = next_wake(); at && *at < armed_for_) timer_.cancel();  // the loop re-arms
}

std::string proxy_engine::facing(const origin& side, std::string_view call_id, const std::string& common) const {
  const auto& [host, port] = service_.advertised_for(side);
  return fmt::format("<sip:{}:{}{}{}{}>", host, port,
                     side.kind != transport::udp ? fmt::format(";transport={}", transport_token(side.kind)) : "",
                     common, side.flow ? fmt::format(";{}={}", flow_param, service_.flow_token(call_id, side.flow)) : "");
}

std::string proxy_engine::our_via(const origin& next, const std::string& branch) const {
  const auto& [host, port] = service_.advertised(next.socket);
  return "SIP/2.0/" + std::string(transport_name(next.kind)) + " " + host + ":" + std::to_string(port) +
         ";branch=" + branch;
}

bool proxy_engine::absorb(const message& request, const origin& reply_to) {
  const auto now = tx_clock::now();
  if (request.method() == "CANCEL") {
    auto* invite = table_->server(server_key(request, "INVITE"));
    if (!invite || !invite->ctx) return false;
    // The CANCEL is answered at once (§16.10); the INVITE ends with what the branches answer,
    // normally 487.
    service_.send(make_response(request, 200, {.to_tag = service_.tag_for(request)}), reply_to);
    auto ctx = invite->ctx;
    ctx->cancel_requested = true;
    cancel_pending(ctx, ctx->branches.size());
    return true;
  }
  const auto key = server_key(request);
  auto* entry = table_->server(key);
  if (!entry) return false;
  if (request.method() == "ACK") {
    send_effects(entry->tx.on_ack(now), entry->reply_to);
  } else {
    send_effects(entry->tx.on_retransmission(), entry->reply_to);
  }
  table_->touched_server(key);
  rearm();
  return true;
}

void proxy_engine::forward(message request, const origin& reply_to, const std::vector<hop>& hops) {
  const auto now = tx_clock::now();
  auto ctx = std::make_shared<context>();
  ctx->invite = request.method() == "INVITE";
  ctx->reply_to = reply_to;
  ctx->server_key = server_key(request);

  server_entry entry{server_transaction(ctx->invite, reliable(reply_to.kind), timers_), reply_to, ctx};
  if (ctx->invite)  // §16.2: a stateful proxy answers an INVITE with 100 at once
    send_effects(entry.tx.respond(100, share(make_response(request, 100)), now), reply_to);
  table_->put_server(ctx->server_key, std::move(entry));
  rearm();

  const int max_forwards = request.max_forwards().value_or(70) - 1;
  const std::string method(request.method());
  // sip.anchor_media: a new call's media goes through this server (media_relay.hpp), and so does
  // the media of its re-INVITEs (they reach the relay's shard: see router.cpp).
  std::optional<std::string> anchored;
  // A browser calling a phone, or a phone a browser: the branches whose target cannot take the
  // offer as it is get it through the call's media bridge (media_bridge.hpp), made once.
  auto* bridges = ctx->invite && !request.body().empty() ? service_.bridges() : nullptr;
  const std::string call_id{request.call_id()};
  const bool initial = request.to().tag().empty();
  const bool webrtc_offer = bridges && is_webrtc_description(request.body());
  std::optional<std::optional<std::string>> bridged_offer;  // made for the first branch that needs it
  if (bridges && !initial && bridges->bridges(call_id)) {
    bridged_offer = bridges->bridge_reoffer(call_id, request.from().tag(), request.body());
  } else if (ctx->invite && service_.relays() && !request.body().empty()) {
    anchored = initial ? service_.relays()->rewrite_offer(call_id, request.from().tag(), request.body())
                       : service_.relays()->rewrite_reoffer(call_id, request.from().tag(), request.body());
  }
  std::string mark;
  for (const hop& h : hops) {
    const bool to_browser = h.peer.kind == transport::ws || h.peer.kind == transport::wss;
    const std::string* body = anchored ? &*anchored : nullptr;
    if (bridges && initial && webrtc_offer != to_browser) {
      if (!bridged_offer) bridged_offer = bridges->bridge_offer(call_id, request.from().tag(), request.body(), to_browser);
    }
    const bool bridged = bridged_offer && *bridged_offer && (!initial || webrtc_offer != to_browser);
    if (bridged) body = &**bridged_offer;
    message out = request.clone();
    out.set_request_uri(h.request_uri);
    out.set_value(header_id::max_forwards, std::to_string(max_forwards));
    // Stay on the path of the dialog this may create, so BYE and re-INVITE come back here.
    // It carries the dialog's mark (route_mark.hpp): only requests of this dialog may follow it
    // on to another host. An anchored call's dialog names the shard of its relay
    // (anchor_shard_param). With a side on a flow (TCP, TLS, WebSocket), one Record-Route faces
    // each side (RFC 5658), the one facing a flow with its token: the dialog's requests reach
    // that side over its connection.
    if (ctx->invite || method == "SUBSCRIBE") {
      if (mark.empty()) mark = service_.route_mark(request.call_id());
      const std::string common = ";lr;" + std::string(route_mark_param) + "=" + mark +
                                 (anchored || bridged ? fmt::format(";{}={}", anchor_shard_param, home_.index())
                                                      : std::string{});
      if (!reliable(reply_to.kind) && !reliable(h.peer.kind)) {
        const auto& [host, port] = service_.advertised(reply_to.socket);
        out.push_front(header_id::record_route, "<sip:" + host + ":" + std::to_string(port) + common + ">");
      } else {
        out.push_front(header_id::record_route, facing(reply_to, request.call_id(), common));
        out.push_front(header_id::record_route, facing(h.peer, request.call_id(), common));
      }
    }
    for (auto r = h.routes.rbegin(); r != h.routes.rend(); ++r)
      out.insert_before_first(header_id::route, header_id::route, *r);
    std::string branch = make_branch(home_.index(), next_branch_++);
    out.push_front(header_id::via, our_via(h.peer, branch));
    std::string wire = body ? with_body(out.serialize(), *body) : out.serialize();
    if (start_branch(ctx, branch, std::move(wire), h.peer, std::move(out))) ctx->branches.back().bridged = bridged;
  }
  if (ctx->branches.empty()) {
    relay_to_caller(ctx, 500, make_response(request, 500, {.reason = "No Usable Target",
                                                           .to_tag = service_.tag_for(request)}));
  }
  ctx->request = std::move(request);
}

bool proxy_engine::start_branch(const std::shared_ptr<context>& ctx, const std::string& branch,
                                std::string wire, const origin& to, std::optional<message> sent) {
  if (!sent) {
    parse_result parsed = parse_message(wire, roomy, true);
    if (!parsed.ok()) {
      log::warn("sip: a request to send does not parse back ({}): branch skipped", parsed.reason());
      return false;
    }
    sent = std::move(parsed.msg);
  }
  const std::string method(sent->method());
  client_entry ce{client_transaction(method == "INVITE", reliable(to.kind), timers_, share(std::move(wire))),
                  to, ctx, ctx->branches.size()};
  send_effects(ce.tx.start(tx_clock::now()), to);
  table_->put_client(client_key(branch, method), std::move(ce));
  rearm();
  ctx->branches.push_back({branch, to, std::move(*sent)});
  return true;
}

void proxy_engine::originate(const request_builder& build, const std::vector<hop>& hops,
                             std::function<void(int)> done) {
  auto ctx = std::make_shared<context>();
  ctx->on_final = std::move(done);
  for (const hop& h : hops) {
    std::string branch = make_branch(home_.index(), next_branch_++);
    start_branch(ctx, branch, build(h, our_via(h.peer, branch)), h.peer);
  }
  if (ctx->branches.empty()) notify_final(ctx, 500);
}

void proxy_engine::notify_final(const std::shared_ptr<context>& ctx, int status) {
  if (!ctx->on_final) return;
  auto done = std::move(ctx->on_final);
  ctx->on_final = nullptr;
  done(status);
}

void proxy_engine::relay_ack(message ack, const hop& next) {
  ack.set_request_uri(next.request_uri);
  ack.set_value(header_id::max_forwards, std::to_string(ack.max_forwards().value_or(70) - 1));
  ack.push_front(header_id::via, our_via(next.peer, make_branch(home_.index(), next_branch_++)));
  service_.send(ack.serialize(), next.peer);
}

void proxy_engine::on_response(message response) {
  const auto now = tx_clock::now();
  std::string key = client_key(response.top_via().branch(), response.cseq_method());
  auto* entry = table_->client(key);
  if (!entry) return;  // late (its transaction ended) or not ours
  const int status = response.status();
  auto r = entry->tx.on_response(status, now);
  send_effects(r.effects, entry->peer);
  if (r.needs_ack && entry->ctx)
    send_effects(entry->tx.send_ack(share(make_ack(entry->ctx->branches[entry->branch].sent, response))), entry->peer);
  auto ctx = entry->ctx;
  const std::size_t b = entry->branch;
  table_->touched_client(key);
  rearm();
  if (!r.deliver || !ctx) return;  // retransmissions, and answers to our CANCELs

  auto& branch = ctx->branches[b];
  if (status < 200) {
    if (status == 100) return;  // hop by hop: ours went out already
    branch.provisional = true;
    if (ctx->cancel_requested) cancel_pending(ctx, ctx->branches.size());
    relay_to_caller(ctx, status, without_our_via(response), b);
    return;
  }
  if (status < 300) {
    branch.final_status = status;
    relay_to_caller(ctx, status, without_our_via(response), b);
    ctx->final_relayed = true;
    notify_final(ctx, status);
    if (ctx->invite) {
      ctx->cancel_requested = true;  // §16.7 step 10: the other branches are not needed now
      cancel_pending(ctx, b);
    }
    return;
  }
  branch_final(ctx, b, status, &response);
}

void proxy_engine::branch_final(const std::shared_ptr<context>& ctx, std::size_t b, int status,
                                const message* response) {
  ctx->branches[b].final_status = status;
  if (!ctx->final_relayed && better_final(status, ctx->best_status)) {
    ctx->best_status = status;
    if (response) {
      message copy = response->clone();
      ctx->best_bytes = without_our_via(copy);
    } else if (!ctx->server_key.empty()) {
      ctx->best_bytes = make_response(ctx->request, status, {.to_tag = service_.tag_for(ctx->request)});
    }
  }
  for (const auto& br : ctx->branches)
    if (br.final_status == 0) return;
  if (!ctx->final_relayed) {
    ctx->final_relayed = true;
    notify_final(ctx, ctx->best_status);
    relay_to_caller(ctx, ctx->best_status, std::move(ctx->best_bytes));
  }
}

void proxy_engine::relay_to_caller(const std::shared_ptr<context>& ctx, int status, std::string bytes,
                                   std::optional<std::size_t> from_branch) {
  if (ctx->server_key.empty()) return;  // nobody to relay to: this server sent the request
  auto* relays = ctx->invite ? service_.relays() : nullptr;
  auto* bridges = ctx->invite ? service_.bridges() : nullptr;
  if (relays || bridges) {
    const std::string call_id{ctx->request.call_id()};
    const bool initial = ctx->request.to().tag().empty();
    const bool bridged = from_branch && *from_branch < ctx->branches.size() && ctx->branches[*from_branch].bridged;
    if (status >= 300) {
      // The call failed: its relay or bridge goes (a refused re-INVITE leaves the call as it was).
      if (initial && relays) relays->end(call_id);
      if (initial && bridges) bridges->end(call_id);
    } else if (status > 100) {
      // The callee's answer (in a 18x or the 2xx), pointed at the relay for the caller, or
      // through the bridge when its branch was bridged; in a re-INVITE's answer, for whichever
      // side offered. Once a branch answers, what was made for the others goes.
      auto parsed = parse_message(bytes, parse_limits{}, true);
      const bool has_body = parsed.ok() && !parsed.msg->body().empty();
      std::optional<std::string> answer;
      if (bridged && has_body) {
        answer = initial ? bridges->bridge_answer(call_id, parsed.msg->body(), status)
                         : bridges->bridge_reanswer(call_id, ctx->request.from().tag(), parsed.msg->body());
        if (initial && status / 100 == 2 && relays) relays->end(call_id);
      } else if (relays && has_body) {
        answer = initial ? relays->rewrite_answer(call_id, parsed.msg->body(), status, parsed.msg->from().uri_text,
                                                  parsed.msg->to().uri_text)
                         : relays->rewrite_reanswer(call_id, ctx->request.from().tag(), parsed.msg->body());
      }
      if (!bridged && initial && status / 100 == 2 && bridges) bridges->end(call_id);
      if (answer) bytes = with_body(bytes, *answer);
    }
  }
  auto* server = table_->server(ctx->server_key);
  if (!server) return;
  send_effects(server->tx.respond(status, share(std::move(bytes)), tx_clock::now()), server->reply_to);
  table_->touched_server(ctx->server_key);
  rearm();
}

void proxy_engine::cancel_pending(const std::shared_ptr<context>& ctx, std::size_t except) {
  if (!ctx->invite) return;
  const auto now = tx_clock::now();
  for (std::size_t i = 0; i < ctx->branches.size(); ++i) {
    auto& br = ctx->branches[i];
    if (i == except || br.final_status != 0 || br.cancelled || !br.provisional) continue;
    br.cancelled = true;
    client_entry ce{client_transaction(false, reliable(br.peer.kind), timers_, share(make_cancel(br.sent))),
                    br.peer, nullptr, i};
    send_effects(ce.tx.start(now), br.peer);
    table_->put_client(client_key(br.id, "CANCEL"), std::move(ce));
    rearm();
  }
}

void proxy_engine::on_timers(tx_clock::time_point now) {
  // A branch that timed out is settled after the table is done with its entry.
  std::vector<std::pair<std::shared_ptr<context>, std::size_t>> timed_out;
  table_->run_timers(
      now,
      [&](const std::string&, client_entry& e, const tx_effects& effects) {
        send_effects(effects, e.peer);
        if (effects.timed_out && e.ctx) timed_out.emplace_back(e.ctx, e.branch);
      },
      [&](const std::string&, server_entry& e, const tx_effects& effects) { send_effects(effects, e.reply_to); });
  for (auto& [ctx, b] : timed_out) branch_final(ctx, b, 408, nullptr);  // no answer from that branch
}

}  // namespace junction::sip
