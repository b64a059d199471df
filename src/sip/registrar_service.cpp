// The registrar's part of a shard's SIP service: REGISTER with digest authentication, and the
// mailbox of MESSAGEs kept for users who are not registered (in memory, written through to
// the user store's mailbox so that a restart keeps them).
#include <boost/asio/ip/udp.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "core/utc_time.hpp"
#include "sip/binding_hops.hpp"
#include "sip/digest_auth.hpp"
#include "sip/presence_service.hpp"
#include "sip/proxy.hpp"
#include "sip/request.hpp"
#include "sip/registrar.hpp"
#include "sip/server.hpp"
#include "sip/shard_service.hpp"
#include "users/user_directory.hpp"

namespace junction::sip {
namespace {

std::int64_t to_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

void shard_service::handle_register(message request, const origin& from) {
  const auto& m = owner_.metrics();
  if (owner_.config().authenticate) {
    // Only the AOR's own user may register it; the registrar answers 404 for anything else.
    auto to = parse_uri(request.to().uri_text);
    if (to && to->is_sip_family() && !to->user.empty() &&
        !authorized(request, from, *to, false, [this, m = std::make_shared<message>(request.clone()), from]() mutable {
          handle_register(std::move(*m), from);
        }))
      return;
  }
  std::string tag = to_tag(request);
  std::string source = describe(from);
  register_context ctx{.to_tag = tag,
                       .source = source,
                       .flow = from.flow,
                       .server_header = server_header,
                       .now = sip_clock::now(),
                       .wall_time = std::chrono::system_clock::now()};
  std::string response = sip::handle_register(locations_, request, owner_.domains(), ctx);
  report_bindings();
  auto to = parse_uri(request.to().uri_text);
  auto aor = to ? canonical_aor(*to) : std::nullopt;
  if (aor && offline_.waiting(*aor) > 0) deliver_offline(*aor, from.socket);
  if (aor) presence_->on_bindings_changed(*aor);
  home_.metrics().add(m.registers);
  home_.metrics().add(m.responses_out);
  send(std::move(response), response_target(request, from));
}

bool shard_service::authorized(const message& request, const origin& from, const uri& identity, bool as_proxy,
                               std::function<void()> again) {
  const auto& m = owner_.metrics();
  // The realm is the identity's domain, and only that address's own user may act for it.
  std::string realm(identity.host);
  std::transform(realm.begin(), realm.end(), realm.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string user = unescape(identity.user);
  // Guessing is slowed per source and per user (auth_throttle.hpp): a locked-out request is
  // refused before its credentials are looked at.
  const auto now = users::auth_throttle::clock::now();
  const std::string source = from.peer.address().to_string();
  const std::string account = user + "@" + realm;
  if (auto wait = std::max(guessers_.locked_for(source, now), guessed_.locked_for(account, now)); wait.count() > 0) {
    home_.metrics().add(m.auth_throttled);
    log::throttled(log::level::warn, "sip auth lockout", "sip {}: {} for {}: refused for {} s after repeated failed logins",
                   describe(from), request.method(), account, wait.count());
    const std::string retry = std::to_string(wait.count());
    respond(request, 403, from, "Too Many Failed Logins", {{"Retry-After", retry}});
    return false;
  }
  auto count_failure = [&](const auth_verdict& v) {
    home_.metrics().add(m.auth_failures);
    const bool by_source = guessers_.failed(source, now);  // both count the failure
    const bool by_account = guessed_.failed(account, now);
    const bool locked = by_source || by_account;
    log::throttled(log::level::info, "sip auth failure", "sip {}: {} for {} as '{}': {}{}", describe(from),
                   request.method(), account, v.username, v.reason, locked ? " (now locked out)" : "");
  };
  // The user's record from this shard's cache (users/user_directory.hpp). One it has not seen is
  // asked of the store's worker, and the request is handled again when the answer is here.
  std::optional<std::pair<std::string, std::string>> unknown;
  bool unavailable = false;
  auto lookup = [&](std::string_view name, std::string_view r) -> std::optional<users::user_record> {
    const users::user_record* record = nullptr;
    switch (owner_.users().find(home_.index(), name, r, &record)) {
      case users::cached::found: return *record;
      case users::cached::absent: return std::nullopt;
      case users::cached::failed: unavailable = true; return std::nullopt;
      case users::cached::unknown: unknown.emplace(name, r); return std::nullopt;
    }
    return std::nullopt;
  };
  const auto verdict = authenticate(request, realm, user, lookup, owner_.auth(),
                                    std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()),
                                    as_proxy ? header_id::proxy_authorization : header_id::authorization);
  if (unknown) {
    owner_.users().fetch_user(home_.index(), std::move(unknown->first), std::move(unknown->second),
                              [alive = std::weak_ptr<void>(alive_), again = std::move(again)] {
                                if (!alive.expired()) again();
                              });
    return false;
  }
  if (unavailable) {
    respond(request, 500, from, "User Store Unavailable");
    return false;
  }
  switch (verdict.what) {
    case auth_verdict::kind::authenticated:
      guessed_.succeeded(account);
      home_.metrics().add(verdict.algorithm == users::digest_algorithm::sha256 ? m.auth_sha256 : m.auth_md5);
      return true;
    case auth_verdict::kind::challenge: {
      home_.metrics().add(m.challenges);
      // A stale nonce is no failure: the client answers the new challenge without its user.
      if (!verdict.username.empty() && verdict.reason != "stale nonce") count_failure(verdict);
      std::vector<std::pair<std::string_view, std::string_view>> headers;
      for (const auto& c : verdict.challenges)
        headers.emplace_back(as_proxy ? "Proxy-Authenticate" : "WWW-Authenticate", c);
      respond(request, as_proxy ? 407 : 401, from, {}, std::move(headers));
      return false;
    }
    case auth_verdict::kind::forbidden:
      count_failure(verdict);
      respond(request, 403, from, verdict.reason);
      return false;
    case auth_verdict::kind::bad_request:
      home_.metrics().add(m.auth_failures);
      respond(request, 400, from, verdict.reason);
      return false;
  }
  return false;
}

void shard_service::handle_presence(message request, const origin& from, const std::string& presentity) {
  const bool check = owner_.config().authenticate;
  if (request.method() == "PUBLISH") {
    // Only the presentity's own user publishes its state.
    auto subject = parse_uri(presentity);
    if (check && subject &&
        !authorized(request, from, *subject, false, [this, m = std::make_shared<message>(request.clone()), from, presentity]() mutable {
          handle_presence(std::move(*m), from, presentity);
        }))
      return;
    return presence_->on_publish(request, from, presentity);
  }
  auto watcher_uri = parse_uri(request.from().uri_text);
  auto watcher = watcher_uri ? canonical_aor(*watcher_uri) : std::nullopt;
  if (!watcher) return respond(request, 400, from, "Watcher Has No SIP Address");
  // Local watchers prove who they are. A watcher of another domain cannot be challenged (its
  // realm is not ours): the presentity's contact list alone decides about it.
  if (check && is_local_domain(watcher_uri->host, owner_.domains()) &&
      !authorized(request, from, *watcher_uri, false, [this, m = std::make_shared<message>(request.clone()), from, presentity]() mutable {
        handle_presence(std::move(*m), from, presentity);
      }))
    return;
  presence_->on_subscribe(request, from, presentity, watcher->substr(watcher->find(':') + 1),
                          [this, alive = std::weak_ptr<void>(alive_), m = std::make_shared<message>(request.clone()), from, presentity]() mutable {
                            if (!alive.expired()) handle_presence(std::move(*m), from, presentity);
                          });
}

void shard_service::store_offline(const message& request, const origin& from, const std::string& aor) {
  // Only for users the store knows: anything else would let strangers fill memory.
  const uri& target = request.request_uri();
  std::string realm(target.host);
  std::transform(realm.begin(), realm.end(), realm.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string user = unescape(target.user);
  switch (owner_.users().find(home_.index(), user, realm)) {
    case users::cached::found: break;
    case users::cached::absent: return respond(request, 404, from);
    case users::cached::failed: return respond(request, 500, from, "User Store Unavailable");
    case users::cached::unknown:
      // Asked of the store's worker; the MESSAGE is routed again when the answer is here.
      return owner_.users().fetch_user(home_.index(), user, realm,
                                       [this, alive = std::weak_ptr<void>(alive_), m = std::make_shared<message>(request.clone()), from]() mutable {
                                         if (!alive.expired()) route_to_aor(std::move(*m), from);
                                       });
  }
  im::stored_message m{std::string(request.value(header_id::from)), std::string(request.value(header_id::to)),
                   std::string(request.value(header_id::content_type)), std::string(request.body()),
                   std::chrono::system_clock::now()};
  users::kept_mail copy{aor, m.from, m.to, m.content_type, m.body, to_seconds(m.received)};
  if (!offline_.store(aor, std::move(m))) return respond(request, 480, from, "Offline Mailbox Full");
  mailbox("keeping a message", [copy = std::move(copy)](users::user_store& store) { store.keep_mail(copy); });
  respond(request, 202, from, "Accepted (Stored For Delivery)");
}

// The mailbox is a copy for restarts, written by the store's worker in the order asked: if the
// database fails, the messages stay in memory (and the failure is logged).
void shard_service::mailbox(std::string what, std::function<void(users::user_store&)> f) {
  owner_.users().write("offline mailbox, " + what, std::move(f));
}

// Read by the store's worker; the messages for this shard's AORs come back here, and those
// whose recipient registered meanwhile are delivered at once.
void shard_service::load_offline() {
  const unsigned here = home_.index();
  mailbox("loading", [this, here, alive = std::weak_ptr<void>(alive_), &rt = owner_.rt()](users::user_store& store) {
    auto all = std::make_shared<std::vector<users::kept_mail>>(store.all_mail());
    rt.post(here, [this, here, alive, all] {
      if (alive.expired()) return;
      std::size_t loaded = 0;
      std::vector<std::string> recipients;
      for (auto& mail : *all) {
        // The mailbox holds other protocols' messages too ("xmpp:..."): theirs to load.
        if (!mail.recipient.starts_with("sip:") || owner_.home_of(mail.recipient) != here) continue;
        im::stored_message m{std::move(mail.sender), std::move(mail.addressee), std::move(mail.content_type),
                         std::move(mail.body), std::chrono::system_clock::time_point(std::chrono::seconds(mail.received))};
        if (offline_.store(mail.recipient, std::move(m))) {
          ++loaded;
          recipients.push_back(mail.recipient);
        }
      }
      if (loaded) log::info("sip: {} offline messages waiting from before the restart", loaded);
      for (const auto& aor : recipients)
        if (offline_.waiting(aor) > 0 && locations_.has_live(aor, sip_clock::now())) deliver_offline(aor, 0);
    });
  });
}

void shard_service::purge_offline(std::chrono::system_clock::time_point now) {
  if (offline_.purge(now) == 0) return;
  auto oldest_kept = to_seconds(now - offline_.limits().keep);
  mailbox("dropping old messages", [oldest_kept](users::user_store& store) { store.drop_mail_before(oldest_kept); });
}

void shard_service::deliver_offline(const std::string& aor, std::size_t socket) {
  std::vector<hop> hops;
  for (const binding& b : locations_.lookup(aor, sip_clock::now()))
    if (auto peer = next_hop_of(b, socket)) hops.push_back(hop{*peer, b.contact, b.path});
  if (hops.empty()) return;
  const auto& [host, port] = advertised(socket);
  auto waiting = offline_.take(aor, std::chrono::system_clock::now());
  // The database copy goes now; a delivery that fails writes its message back.
  mailbox("delivering messages", [aor](users::user_store& store) { store.drop_mail(aor); });
  for (auto& m : waiting) {
    std::string call_id = fmt::format("offline-{:x}-{}@{}", tag_secret_ ^ ++originated_, home_.index(), host);
    auto build = [&m, call_id](const hop& h, const std::string& via) {
      request_spec r{.method = "MESSAGE", .request_uri = h.request_uri, .routes = h.routes, .from = m.from,
                     .to = m.to, .call_id = call_id};
      r.headers.emplace_back("Date", format_utc(m.received, imf_fixdate));
      r.content_type = m.content_type;
      r.body = m.body;
      return make_request(r, via);
    };
    // A delivery that fails goes back in the box for the next registration.
    proxy_->originate(build, hops, [this, aor, kept = m](int status) {
      if (status < 300) return;
      offline_.give_back(aor, {kept});
      users::kept_mail copy{aor, kept.from, kept.to, kept.content_type, kept.body, to_seconds(kept.received)};
      mailbox("keeping a message", [copy = std::move(copy)](users::user_store& store) { store.keep_mail(copy); });
    });
  }
}

}  // namespace junction::sip
