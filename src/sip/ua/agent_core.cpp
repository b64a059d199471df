#include "sip/ua/agent_core.hpp"

#include <fmt/format.h>

#include "sip/message.hpp"
#include "users/credentials.hpp"

namespace junction::sip::ua {
namespace {

shared_bytes share(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

}  // namespace

agent_core::agent_core(settings s, std::uint64_t seed) : s_(std::move(s)), random_(seed) {
  if (s_.auth_user.empty()) s_.auth_user = s_.user;
}

std::string agent_core::token(std::size_t hex_digits) {
  std::string out;
  while (out.size() < hex_digits) out += fmt::format("{:016x}", random_());
  out.resize(hex_digits);
  return out;
}

std::string agent_core::aor() const { return fmt::format("sip:{}@{}", s_.user, s_.domain); }

std::string agent_core::contact() const {
  return fmt::format("<sip:{}@{}:{};transport=udp>", s_.user, s_.local_host, s_.local_port);
}

std::string agent_core::via(const std::string& branch) const {
  return fmt::format("SIP/2.0/UDP {}:{};branch={};rport", s_.local_host, s_.local_port, branch);
}

void agent_core::emit(const tx_effects& effects, const std::string& host, std::uint16_t port) {
  for (const auto& b : effects.send) out_.push_back({*b, host, port});
}

std::string agent_core::send(purpose why, request_spec request, std::string host, std::uint16_t port,
                             clock::time_point now) {
  request.headers.emplace_back("User-Agent", s_.user_agent);
  client_entry c{why, client_transaction(false, false, s_.timers, nullptr), std::move(request), std::move(host),
                 "z9hG4bK" + token(20), port, false};
  const bool invite = c.request.method == "INVITE";
  c.tx = client_transaction(invite, false, s_.timers, share(make_request(c.request, via(c.branch))));
  emit(c.tx.start(now), c.host, c.port);
  auto key = c.branch + c.request.method;
  table_.put_client(key, std::move(c));
  return key;
}

void agent_core::send_cancel(const std::string& invite_key, clock::time_point now) {
  auto* invite = table_.client(invite_key);
  if (!invite) return;
  // Everything as in the INVITE but the method (RFC 3261 §9.1): the same Request-URI, From, To,
  // Call-ID, CSeq number and branch, so the next hop matches it to the INVITE's transaction.
  request_spec cancel{.method = "CANCEL", .request_uri = invite->request.request_uri,
                      .routes = invite->request.routes, .from = invite->request.from, .to = invite->request.to,
                      .call_id = invite->request.call_id, .cseq = invite->request.cseq};
  cancel.headers.emplace_back("User-Agent", s_.user_agent);
  client_entry ce{purpose::cancel,
                  client_transaction(false, false, s_.timers, share(make_request(cancel, via(invite->branch)))),
                  std::move(cancel), invite->host, invite->branch, invite->port, true};
  emit(ce.tx.start(now), ce.host, ce.port);
  table_.put_client(invite->branch + "CANCEL", std::move(ce));
}

std::optional<std::string> agent_core::retry_with_credentials(client_entry& c, const message& response,
                                                              std::uint32_t cseq, clock::time_point now) {
  if (c.auth_tried) return std::nullopt;
  const bool proxy = response.status() == 407;
  const auto* field = response.find(proxy ? header_id::proxy_authenticate : header_id::www_authenticate);
  // Take the first challenge whose algorithm this side computes (SHA-256 comes first, RFC 8760).
  std::string authorization;
  for (const auto& h : response.headers()) {
    if (!field || h.id != field->id) continue;
    auto challenge = users::parse_challenge(h.value);
    if (!challenge.ok()) continue;
    authorization = users::make_authorization(
        challenge.params, {.username = s_.auth_user, .password = s_.password, .method = c.request.method,
                           .uri = c.request.request_uri, .cnonce = token(16), .nonce_count = ++nonce_count_});
    if (!authorization.empty()) break;
  }
  if (authorization.empty()) return std::nullopt;
  // The same request again with credentials: same Call-ID and From tag, the owner's next CSeq, a
  // new branch. The new transaction has tried, so a second challenge is a failure.
  request_spec again = c.request;
  std::erase_if(again.headers, [](const auto& h) {
    return h.first == "User-Agent" || h.first == "Authorization" || h.first == "Proxy-Authorization";
  });
  again.headers.emplace_back(proxy ? "Proxy-Authorization" : "Authorization", std::move(authorization));
  again.cseq = cseq;
  auto key = send(c.why, std::move(again), c.host, c.port, now);
  table_.client(key)->auth_tried = true;
  return key;
}

void agent_core::respond(const message& request, int status, response_options options, std::string_view host,
                         std::uint16_t port, clock::time_point now) {
  options.headers.emplace_back("User-Agent", s_.user_agent);
  std::string bytes = make_response(request, status, options);
  const std::string key = std::string{request.top_via().params.value("branch")} + std::string{request.method()};
  if (!table_.server(key)) {
    out_.push_back({std::move(bytes), std::string{host}, port});
    return;
  }
  respond_in(key, status, std::move(bytes), now);
}

void agent_core::respond_in(const std::string& key, int status, std::string bytes, clock::time_point now) {
  auto* server = table_.server(key);
  if (!server) return;
  emit(server->tx.respond(status, share(std::move(bytes)), now), server->host, server->port);
  table_.touched_server(key);
}

}  // namespace junction::sip::ua
