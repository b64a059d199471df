#include "sip/presence_service.hpp"

#include <fmt/format.h>

#include <random>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "sip/pidf.hpp"
#include "sip/proxy.hpp"
#include "sip/server.hpp"
#include "users/user_directory.hpp"

namespace junction::sip {
namespace {

// Pending watchers asked about again per housekeeping round: each costs a database lookup.
constexpr std::size_t pending_checks_per_round = 256;

// "sip:alice@example.com" -> {"alice", "example.com"}
std::pair<std::string_view, std::string_view> user_and_domain(std::string_view aor) {
  if (auto colon = aor.find(':'); colon != std::string_view::npos) aor.remove_prefix(colon + 1);
  auto at = aor.rfind('@');
  if (at == std::string_view::npos) return {{}, aor};
  return {aor.substr(0, at), aor.substr(at + 1)};
}

}  // namespace

presence_service::presence_service(shard_service& service, server& owner, shard& home)
    : service_(service),
      owner_(owner),
      home_(home),
      publications_(publication_limits{owner.config().min_expires, owner.config().max_expires,
                                       owner.config().default_expires, 16},
                    (std::uint64_t{home.index()} << 56) ^ std::random_device{}() ^
                        (std::uint64_t{std::random_device{}()} << 24)),
      subscriptions_(subscription_limits{owner.config().min_expires, owner.config().max_expires,
                                         owner.config().default_expires, 100000}) {}

std::string presence_service::document_of(const std::string& presentity, sip_clock::time_point now) {
  if (auto published = publications_.current(presentity, now)) return std::string(*published);
  bool registered = service_.locations().has_live(presentity, now);
  return make_pidf(presentity, registered, registered ? "Online" : "Offline");
}

users::cached presence_service::may_watch(const subscription& s) {
  if (owner_.config().presence_authorization == "open") return users::cached::found;
  auto [user, domain] = user_and_domain(s.presentity);
  if (s.watcher == fmt::format("{}@{}", user, domain)) return users::cached::found;  // one's own presence
  return owner_.users().has_contact(home_.index(), user, domain, s.watcher);
}

void presence_service::on_subscribe(const message& request, const origin& from, const std::string& presentity,
                                    const std::string& watcher, std::function<void()> again) {
  const auto now = sip_clock::now();
  if (owner_.config().presence_authorization == "contacts") {
    // Watching is decided by the presentity's contact list, so it must be a user of the store;
    // both come from this shard's cache, asked of the store's worker first when it has not seen
    // them (the SUBSCRIBE is handled again then).
    const auto parts = user_and_domain(presentity);  // not a structured binding: the lambda below uses them
    const std::string_view user = parts.first, domain = parts.second;
    const unsigned here = home_.index();
    auto& directory = owner_.users();
    auto ask = [&](bool contacts) {
      if (contacts) directory.fetch_contacts(here, std::string{user}, std::string{domain}, std::move(again));
      else directory.fetch_user(here, std::string{user}, std::string{domain}, std::move(again));
    };
    if (request.to().tag().empty()) {
      switch (directory.find(here, user, domain)) {
        case users::cached::found: break;
        case users::cached::absent: return service_.respond(request, 404, from, "No Such Presentity");
        case users::cached::failed: return service_.respond(request, 500, from, "User Store Unavailable");
        case users::cached::unknown: return ask(false);
      }
    }
    const bool own = watcher == fmt::format("{}@{}", user, domain);
    if (!own && directory.has_contact(here, user, domain, watcher) == users::cached::unknown) return ask(true);
  }
  auto outcome = subscriptions_.subscribe(request, presentity, watcher, service_.tag_for(request), next_id_, now);
  if (outcome.status != 200) {
    std::string min = std::to_string(outcome.min_expires);
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    if (outcome.status == 423) headers.emplace_back("Min-Expires", min);
    return service_.respond(request, outcome.status, from, outcome.reason, std::move(headers));
  }
  subscription& s = *outcome.sub;
  const std::uint64_t id = s.id;
  const auto& [host, port] = service_.advertised(from.socket);
  std::string contact = fmt::format("<sip:{}:{}>", host, port);
  std::string expires = std::to_string(outcome.expires);
  if (outcome.retransmission)
    return service_.respond(request, 200, from, {}, {{"Expires", expires}, {"Contact", contact}});
  if (outcome.created) {
    ++next_id_;
    deliveries_[id].reach = service_.response_target(request, from);
  }
  const auto verdict = may_watch(s);
  const std::optional<bool> allowed =
      verdict == users::cached::failed || verdict == users::cached::unknown ? std::nullopt
                                                                            : std::optional{verdict == users::cached::found};
  if (!allowed) {
    if (outcome.created) {
      subscriptions_.remove(id);
      deliveries_.erase(id);
    }
    return service_.respond(request, 500, from, "User Store Unavailable");
  }
  service_.respond(request, 200, from, {}, {{"Expires", expires}, {"Contact", contact}});
  if (outcome.created)
    log::info("sip presence: {} watches {} ({})", watcher, presentity, *allowed ? "allowed" : "pending");
  // Every accepted SUBSCRIBE is answered with a NOTIFY at once (RFC 6665 §4.2.1.2); a fetch
  // or an unsubscribe ends the subscription with it.
  if (outcome.expires == 0) {
    s.state = *allowed ? subscription_state::active : subscription_state::pending;
    end(id, "timeout");
  } else {
    notify(id, *allowed ? subscription_state::active : subscription_state::pending);
  }
  report();
}

void presence_service::on_publish(const message& request, const origin& from, const std::string& presentity) {
  const auto now = sip_clock::now();
  auto event = parse_event(request.value(header_id::event));
  if (!event || event->package != "presence")
    return service_.respond(request, 489, from, {}, {{"Allow-Events", "presence"}});
  std::string_view body = request.body();
  if (!body.empty()) {
    std::string_view type = request.value(header_id::content_type);
    type = trim(type.substr(0, type.find(';')));
    if (!iequals(type, pidf_content_type))
      return service_.respond(request, 415, from, {}, {{"Accept", pidf_content_type}});
    auto parsed = parse_pidf(body);
    if (!parsed.ok()) {
      log::info("sip {}: PUBLISH for {}: bad PIDF: {}{}{}", describe(from), presentity, parsed.error.message(),
                parsed.where.empty() ? "" : ": ", parsed.where);
      return service_.respond(request, 400, from, "Bad PIDF Document");
    }
  }
  publish_request p{.aor = presentity, .if_match = std::nullopt, .expires = std::nullopt, .body = body};
  if (const header_field* m = request.find(header_id::sip_if_match)) p.if_match = trim(m->value);
  if (const header_field* e = request.find(header_id::expires)) {
    p.expires = delta_seconds(e->value);
    if (!p.expires) return service_.respond(request, 400, from, "Bad Expires");
  }
  auto outcome = publications_.apply(p, now);
  if (outcome.status != 200) {
    std::string min = std::to_string(outcome.min_expires);
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    if (outcome.status == 423) headers.emplace_back("Min-Expires", min);
    return service_.respond(request, outcome.status, from, outcome.reason, std::move(headers));
  }
  std::string expires = std::to_string(outcome.expires);
  service_.respond(request, 200, from, {}, {{"SIP-ETag", outcome.etag}, {"Expires", expires}});
  if (outcome.changed) notify_watchers(presentity);
  report();
}

void presence_service::on_bindings_changed(const std::string& presentity) {
  if (shown_.contains(presentity)) notify_watchers(presentity);
}

void presence_service::notify_watchers(const std::string& presentity) {
  auto ids = subscriptions_.watching(presentity);
  if (ids.empty()) {
    shown_.erase(presentity);
    return;
  }
  std::string document = document_of(presentity, sip_clock::now());
  auto [it, inserted] = shown_.try_emplace(presentity);
  if (!inserted && it->second == document) return;
  it->second = std::move(document);
  for (auto id : ids)
    if (auto* s = subscriptions_.find(id); s && s->state == subscription_state::active) notify_current(id);
}

void presence_service::notify(std::uint64_t id, subscription_state state, std::string_view reason) {
  subscription* s = subscriptions_.find(id);
  auto d = deliveries_.find(id);
  if (!s || d == deliveries_.end()) return;
  const bool final = state == subscription_state::terminated;
  if (!final && d->second.in_flight) {
    s->state = state;
    d->second.again = true;
    return;
  }
  const auto now = sip_clock::now();
  // State goes only to watchers allowed to see it: active ones, and active ones being let go
  // because their time is up (RFC 3856 §6.6.3, a final NOTIFY may carry the last state).
  const bool with_state = state == subscription_state::active ||
                          (final && s->state == subscription_state::active && reason == "timeout");
  std::string body = with_state ? document_of(s->presentity, now) : std::string();
  if (with_state) shown_[s->presentity] = body;
  if (!final) s->state = state;
  notify_content content{state, s->seconds_left(now), reason, body};
  const auto& [host, port] = service_.advertised(d->second.reach.socket);
  std::string contact = fmt::format("sip:{}:{}", host, port);
  hop h{d->second.reach, s->remote_target, {}};
  d->second.in_flight = true;
  home_.metrics().add(owner_.metrics().notifies);
  service_.proxy().originate(
      [s, &contact, &content](const hop&, const std::string& via) { return make_notify(*s, via, contact, content); },
      {h}, [this, id](int status) {
        auto d = deliveries_.find(id);
        if (d == deliveries_.end()) return;  // ended meanwhile
        d->second.in_flight = false;
        if (status >= 300) {
          // 481: the watcher forgot the dialog; anything else: it cannot be reached or does not
          // want it. Either way the subscription is over (RFC 6665 §4.2.2).
          log::info("sip presence: NOTIFY for subscription {} answered {}: ended", id, status);
          subscriptions_.remove(id);
          deliveries_.erase(d);
          report();
          return;
        }
        if (d->second.again) {
          d->second.again = false;
          if (auto* s = subscriptions_.find(id)) notify(id, s->state);
        }
      });
}

void presence_service::end(std::uint64_t id, std::string_view reason) {
  notify(id, subscription_state::terminated, reason);
  subscriptions_.remove(id);
  deliveries_.erase(id);
}

void presence_service::housekeeping(sip_clock::time_point now) {
  for (const auto& presentity : publications_.purge(now)) on_bindings_changed(presentity);
  for (auto id : subscriptions_.expired(now)) end(id, "timeout");
  // Registrations lapse and connections close without telling this object: compare.
  std::vector<std::string> watched;
  for (const auto& entry : shown_) watched.push_back(entry.first);
  for (const auto& presentity : watched) notify_watchers(presentity);
  // A watcher added to a contact list since it subscribed is let in.
  std::size_t checked = 0;
  for (auto id : subscriptions_.all()) {
    subscription* s = subscriptions_.find(id);
    if (!s || s->state != subscription_state::pending) continue;
    if (++checked > pending_checks_per_round) break;
    switch (may_watch(*s)) {
      case users::cached::found: notify(id, subscription_state::active); break;
      case users::cached::unknown: {  // asked now; the next round sees the answer
        auto [user, domain] = user_and_domain(s->presentity);
        owner_.users().fetch_contacts(home_.index(), std::string{user}, std::string{domain}, [] {});
        break;
      }
      default: break;
    }
  }
  report();
}

void presence_service::report() {
  auto adjust = [this](metric_id metric, std::size_t now, std::size_t& reported) {
    if (now > reported) home_.metrics().add(metric, now - reported);
    else home_.metrics().sub(metric, reported - now);
    reported = now;
  };
  adjust(owner_.metrics().subscriptions, subscriptions_.size(), reported_subscriptions_);
  adjust(owner_.metrics().publications, publications_.count(), reported_publications_);
}

}  // namespace junction::sip
