#include "xmpp/router.hpp"

#include <algorithm>
#include <charconv>

#include "core/home_shard.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "core/utc_time.hpp"
#include "users/user_directory.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {

bool is_subscription(std::string_view type) noexcept {
  return type == "subscribe" || type == "subscribed" || type == "unsubscribe" || type == "unsubscribed";
}

unsigned home_of(const jid& address, unsigned shards) noexcept {
  std::string key = "sip:";
  key += address.bare_str();
  return home_shard(key, shards);
}

shard_router::shard_router(server& owner, shard& home)
    : owner_(owner), home_(home),
      guessers_({.allowed = owner.config().auth_failures_allowed,
                 .max_delay = std::chrono::duration_cast<std::chrono::seconds>(owner.config().auth_lockout_max)}),
      guessed_({.allowed = owner.config().auth_failures_allowed * 4,
                .max_delay = std::chrono::duration_cast<std::chrono::seconds>(owner.config().auth_lockout_max)}) {}

void shard_router::attach(std::uint64_t id, stanza_sink& sink) { streams_[id] = &sink; }

bool shard_router::may_register(const std::string& source) {
  const auto now = std::chrono::steady_clock::now();
  if (registrations_.size() > 10000)
    std::erase_if(registrations_, [&](const auto& r) { return now - r.second.first > std::chrono::hours(1); });
  auto& [since, count] = registrations_[source];
  if (count == 0 || now - since > std::chrono::hours(1)) {
    since = now;
    count = 0;
  }
  return ++count <= owner_.config().registration_per_hour;
}
void shard_router::detach(std::uint64_t id) { streams_.erase(id); }

void shard_router::deliver_here(std::uint64_t id, const stanza_ptr& stanza) {
  if (auto it = streams_.find(id); it != streams_.end()) return it->second->deliver(stanza);
  // A stream resumed elsewhere: what was on its way to the old one follows it.
  if (auto f = forwards_.find(id); f != forwards_.end()) owner_.deliver(f->second.shard, f->second.stream, stanza);
}

namespace {

// What XEP-0280 §6 copies: chat messages (and normal ones with a body), unless marked private,
// no-copy, or already a copy.
bool carbons_apply(const xml::element& m) {
  const std::string_view type = m.attr("type");
  if (type != "chat" && !(type.empty() || type == "normal")) return false;
  if ((type.empty() || type == "normal") && !m.child(ns::client, "body")) return false;
  return !m.child(ns::carbons, "private") && !m.child(ns::hints, "no-copy") && !m.child(ns::carbons, "received") &&
         !m.child(ns::carbons, "sent");
}

}  // namespace

void shard_router::set_carbons(const jid& address, std::uint64_t stream, bool on) {
  auto it = accounts_.find(address.bare_str());
  if (it == accounts_.end()) return;
  for (auto& r : it->second)
    if (r.name == address.resource() && r.stream == stream) r.carbons = on;
}

void shard_router::sent_carbons(const jid& from, const stanza_ptr& message) {
  archive_sent(from, *message);
  auto it = accounts_.find(from.bare_str());
  if (it == accounts_.end()) return;
  std::vector<const resource*> sender;
  for (const auto& r : it->second)
    if (r.name == from.resource()) sender.push_back(&r);
  carbon_copies(from.bare(), message, "sent", sender);
}

void shard_router::carbon_copies(const jid& account, const stanza_ptr& message, std::string_view direction,
                                 const std::vector<const resource*>& had_it) {
  if (!carbons_apply(*message)) return;
  auto it = accounts_.find(account.bare_str());
  if (it == accounts_.end()) return;
  for (const auto& r : it->second) {
    if (!r.carbons || !r.available || std::find(had_it.begin(), had_it.end(), &r) != had_it.end()) continue;
    auto copy = std::make_shared<xml::element>(std::string(ns::client), "message");
    copy->set("from", account.str());
    copy->set("to", account.with_resource(r.name).str());
    copy->set("type", message->attr("type").empty() ? "normal" : message->attr("type"));
    copy->add(std::string(ns::carbons), std::string(direction))
        .add(std::string(ns::forward), "forwarded")
        .add(*message);
    send_to(r, copy);
  }
}

bool shard_router::kick_here(std::uint64_t id, std::string_view condition, std::string_view text) {
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    if (auto f = forwards_.find(id); f != forwards_.end())
      owner_.kick(f->second.shard, f->second.stream, std::string(condition), std::string(text));
    return false;
  }
  it->second->kick(condition, text);
  return true;
}

std::vector<stream_summary> shard_router::streams() const {
  std::vector<stream_summary> out;
  out.reserve(streams_.size());
  for (const auto& [id, sink] : streams_) out.push_back(sink->summary());
  return out;
}

void shard_router::bind(const jid& address, unsigned shard, std::uint64_t stream) {
  auto& list = accounts_[address.bare_str()];
  resource fresh;
  fresh.name = address.resource();
  fresh.shard = shard;
  fresh.stream = stream;
  for (auto& r : list) {
    if (r.name != address.resource()) continue;
    // The resource is taken: the newer login wins, the older stream ends (RFC 6120 §7.7.2.2).
    owner_.kick(r.shard, r.stream, "conflict", "the same resource logged in again");
    r = std::move(fresh);
    return;
  }
  list.push_back(std::move(fresh));
  ++resources_;
  // The new stream learns the account's blocklist (it refuses to send to what is on it).
  with_roster(address.bare(), [this, address, shard, stream](roster_state& roster) {
    if (!roster.blocked.empty())
      owner_.blocklist_to(shard, stream, std::make_shared<const std::set<std::string>>(roster.blocked));
  });
}

void shard_router::unbind(const jid& address, std::uint64_t stream) {
  auto it = accounts_.find(address.bare_str());
  if (it == accounts_.end()) return;
  const auto before = it->second.size();
  std::erase_if(it->second, [&](const resource& r) { return r.name == address.resource() && r.stream == stream; });
  resources_ -= before - it->second.size();
  if (auto recipients = pep_recipients_.find(address.bare_str()); recipients != pep_recipients_.end()) {
    recipients->second.erase(address.str());
    if (recipients->second.empty()) pep_recipients_.erase(recipients);
  }
  if (!it->second.empty()) return;
  accounts_.erase(it);
  forget_pep_if_idle(address.bare_str());
  // Its roster is read again at the next login (another process may have changed it meanwhile).
  forget_roster_if_idle(address.bare_str());
}

void shard_router::send_to(const resource& r, const stanza_ptr& stanza) { owner_.deliver(r.shard, r.stream, stanza); }

void shard_router::broadcast(const jid& from, std::uint64_t stream, const stanza_ptr& presence) {
  auto it = accounts_.find(from.bare_str());
  if (it == accounts_.end()) return;
  const std::string_view type = presence->attr("type");
  if (!type.empty() && type != "unavailable") return;  // subscriptions and probes need a recipient
  const resource* newly_available = nullptr;
  for (auto& r : it->second) {
    if (r.name != from.resource() || r.stream != stream) continue;
    const bool was = r.available;
    r.available = type.empty();
    r.last_presence = presence;
    int priority = 0;
    const std::string text = presence->child_text(ns::client, "priority");
    if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), priority);
    r.priority = std::clamp(priority, -128, 127);
    if (!was && r.available && r.priority >= 0) newly_available = &r;
  }
  for (const auto& r : it->second)
    if (r.available || (r.name == from.resource() && r.stream == stream)) send_to(r, presence);
  pep_presence(from.bare(), from, *presence);  // the account's own resources follow its nodes too
  // What waited for the account goes to the first resource that can take it (RFC 6121 §8.5.2.2.1,
  // after its own presence: the client's initial presence is what says it is ready).
  // Those who may see the account see it too (RFC 6121 §4.2.2, §4.4.2).
  presence_to_subscribers(from, presence);
  if (newly_available) {
    after_initial_presence(from.bare(), *newly_available);
    deliver_offline(from.bare(), *newly_available);
  }
}

void shard_router::route(const jid& to, const stanza_ptr& stanza, bool archived) {
  const std::string& kind = stanza->name();
  const std::string_view type = stanza->attr("type");
  // What the account blocks does not reach it (XEP-0191 §3.5): an error for a message or a
  // query, nothing for presence. Its blocklist is known while it has resources.
  // Only the blocklist's lookup on the hot path; the sender is parsed when there is a list.
  {
    const std::string key = to.bare_str();
    auto roster = rosters_.find(key);
    const bool loaded = roster != rosters_.end() && roster->second.loaded;
    if (!loaded && accounts_.count(key))
      return with_roster(to.bare(), [this, to, stanza, archived](roster_state&) { route(to, stanza, archived); });
    if (loaded && !roster->second.blocked.empty()) {
      const auto sender = jid::parse(stanza->attr("from"));
      if (sender && sender->bare() != to.bare() && is_blocked(roster->second.blocked, *sender)) {
        if (kind == "message" || (kind == "iq" && (type == "get" || type == "set")))
          bounce(*stanza, "cancel", "service-unavailable");
        return;
      }
    }
  }
  // Personal eventing: the answer to a caps query its service asked, and who follows the account.
  if (kind == "iq" && (type == "result" || type == "error") && stanza->attr("id").starts_with("caps-") &&
      pep_caps_answer(stanza))
    return;
  if (kind == "presence" && (type.empty() || type == "unavailable"))
    if (const auto from = jid::parse(stanza->attr("from")); from && from->bare() != to.bare()) pep_presence(to, *from, *stanza);
  if (kind == "presence" && is_subscription(type)) return inbound_subscription(to, stanza);
  if (kind == "presence" && type == "probe") {
    if (auto from = jid::parse(stanza->attr("from"))) answer_probe(to, *from);
    return;
  }
  auto it = accounts_.find(to.bare_str());
  const std::vector<resource> none;
  const auto& list = it == accounts_.end() ? none : it->second;
  if (!to.is_bare()) {
    for (const auto& r : list)
      if (r.name == to.resource()) {
        if (kind != "message") return send_to(r, stanza);
        const stanza_ptr kept = archived ? stanza : archive_received(to.bare(), stanza);
        send_to(r, kept);
        carbon_copies(to.bare(), kept, "received", {&r});
        return;
      }
    // No such resource (RFC 6121 §8.5.3.2): a message goes on as if to the bare JID; an iq gets
    // an error; presence is dropped.
    if (kind == "iq") return bounce(*stanza, "cancel", "service-unavailable");
    if (kind != "message" || type == "groupchat" || type == "headline" || type == "error") return;
  }
  if (kind == "message") {
    // The available resources of the highest non-negative priority (RFC 6121 §8.5.2.1.1).
    int best = -1;
    for (const auto& r : list)
      if (r.available) best = std::max(best, r.priority);
    std::vector<const resource*> sent;
    for (const auto& r : list)
      if (r.available && r.priority == best && best >= 0) sent.push_back(&r);
    if (sent.empty()) {
      if (type != "error" && type != "groupchat" && type != "headline") keep_offline(to.bare(), stanza, archived);
      return;
    }
    const stanza_ptr kept = archived ? stanza : archive_received(to.bare(), stanza);
    for (const auto* r : sent) send_to(*r, kept);
    carbon_copies(to.bare(), kept, "received", sent);
    return;
  }
  if (kind == "presence") {
    for (const auto& r : list)
      if (r.available) send_to(r, stanza);
    return;
  }
  // A vCard is the server's to answer for the account (XEP-0054), and so are its eventing nodes
  // (XEP-0163) and its disco.
  if (kind == "iq" && to.is_bare() && stanza->child(ns::vcard, "vCard"))
    if (const auto sender = jid::parse(stanza->attr("from"))) return vcard_iq(*sender, stanza, to);
  if (kind == "iq" && to.is_bare() && (type == "get" || type == "set") &&
      (stanza->child(pep_ns::pubsub, "pubsub") || stanza->child(pep_ns::owner, "pubsub") ||
       stanza->child(ns::disco_info, "query") || stanza->child(ns::disco_items, "query")))
    if (const auto sender = jid::parse(stanza->attr("from"))) return pep_iq(*sender, stanza, to);
  // Any other iq for an account: what the server answers for it is the sender's stream's to do;
  // one that reached here has no one to answer it. An answer that found no one is dropped.
  if (kind == "iq" && (type == "result" || type == "error")) return;
  bounce(*stanza, "cancel", "service-unavailable");
}

namespace {
constexpr std::string_view stanza_type = "application/xmpp+xml";
std::string mailbox_key(const jid& bare) { return "xmpp:" + bare.bare_str(); }
}  // namespace

void shard_router::keep_offline(const jid& to, const stanza_ptr& stanza, bool archived) {
  auto& users = owner_.users();
  switch (users.find(home_.index(), to.local(), to.domain())) {
    case users::cached::unknown:
      // Routed again once the store answered: a resource may have come meanwhile.
      users.fetch_user(home_.index(), to.local(), to.domain(), [this, to, stanza, archived] { route(to, stanza, archived); });
      return;
    case users::cached::absent:
    case users::cached::failed: return bounce(*stanza, "cancel", "service-unavailable");
    case users::cached::found: break;
  }
  // Kept with when it came (XEP-0203), written back as the stanza (archived first, with its id).
  const auto now = std::chrono::system_clock::now();
  xml::element kept = archived ? *stanza : *archive_received(to, stanza);
  kept.add("urn:xmpp:delay", "delay").set("from", to.domain()).set("stamp", format_utc(now, iso8601_utc));
  im::stored_message m{std::string(stanza->attr("from")), to.str(), std::string(stanza_type),
                       xml::to_string(kept, ns::client), now};
  users::kept_mail mail{mailbox_key(to), m.from, m.to, m.content_type, m.body,
                        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()};
  if (!offline_.store(mailbox_key(to), std::move(m))) return bounce(*stanza, "wait", "resource-constraint");
  home_.metrics().add(owner_.metrics().offline);
  users.write("xmpp offline mailbox, keeping", [mail = std::move(mail)](users::user_store& store) { store.keep_mail(mail); });
}

void shard_router::deliver_offline(const jid& bare, const resource& r) {
  const std::string key = mailbox_key(bare);
  if (offline_.waiting(key) == 0) return;
  const std::size_t waiting = offline_.waiting(key);
  home_.metrics().sub(owner_.metrics().offline, waiting);
  for (auto& m : offline_.take(key, std::chrono::system_clock::now())) {
    auto stanza = xml::parse_fragment(m.body, ns::client);
    if (stanza) send_to(r, std::make_shared<const xml::element>(std::move(*stanza)));
  }
  owner_.users().write("xmpp offline mailbox, delivered", [key](users::user_store& store) { store.drop_mail(key); });
}

void shard_router::load_offline() {
  const unsigned here = home_.index();
  auto& rt = owner_.rt();
  // One job of the store's worker per shard at start: old archived messages go (shard 0), the
  // mailbox and the persistent rooms are read.
  std::int64_t expire_before = 0;
  if (here == 0 && owner_.config().archive && owner_.config().archive_expires_after.count() > 0)
    expire_before = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch() - owner_.config().archive_expires_after)
                        .count();
  const bool rooms_wanted = owner_.has_muc();
  owner_.users().write("xmpp, loading what waits", [this, here, &rt, expire_before, rooms_wanted](users::user_store& store) {
    if (expire_before > 0) store.expire_archive(expire_before);
    auto all = std::make_shared<std::vector<users::kept_mail>>(store.all_mail());
    auto rooms = std::make_shared<std::vector<users::stored_room>>(rooms_wanted ? store.all_rooms()
                                                                               : std::vector<users::stored_room>{});
    rt.post(here, [this, here, all, rooms] {
      if (!rooms->empty()) owner_.muc_here().adopt(*rooms);
      const unsigned shards = owner_.rt().size();
      for (auto& mail : *all) {
        if (!mail.recipient.starts_with("xmpp:")) continue;
        const auto bare = jid::parse(std::string_view(mail.recipient).substr(5));
        if (!bare || home_of(*bare, shards) != here) continue;
        if (offline_.store(mail.recipient, im::stored_message{std::move(mail.sender), std::move(mail.addressee),
                                                              std::move(mail.content_type), std::move(mail.body),
                                                              std::chrono::system_clock::time_point(
                                                                  std::chrono::seconds(mail.received))}))
          home_.metrics().add(owner_.metrics().offline);
      }
    });
  });
}

stanza_ptr error_reply(const xml::element& stanza, std::string_view type, std::string_view condition,
                       std::string_view text) {
  if (stanza.attr("type") == "error" || !stanza.has("from")) return {};
  auto error = std::make_shared<xml::element>(stanza);
  error->set("type", "error");
  error->set("from", stanza.attr("to"));
  error->set("to", stanza.attr("from"));
  auto& e = error->add(std::string(ns::client), "error");
  e.set("type", type);
  e.add(std::string(ns::stanza_errors), std::string(condition));
  if (!text.empty()) e.add(std::string(ns::stanza_errors), "text").add_text(text);
  return error;
}

void shard_router::bounce(const xml::element& stanza, std::string_view type, std::string_view condition) {
  const auto sender = jid::parse(stanza.attr("from"));
  if (!sender) return;
  if (auto error = error_reply(stanza, type, condition)) owner_.route(*sender, std::move(error));
}

}  // namespace junction::xmpp
