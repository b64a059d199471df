// Rosters and presence subscriptions (RFC 6121 §2, §3, §4), on each account's home shard: the
// roster is read from the user store when the account first needs it, kept while it has
// resources, and every change is written through and pushed to the account's resources.
#include <string_view>

#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "users/user_directory.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/router.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

std::string_view subscription_of(const users::roster_item& item) {
  return item.to && item.from ? "both" : item.to ? "to" : item.from ? "from" : "none";
}

xml::element item_element(const users::roster_item& item, bool removed) {
  xml::element e(std::string(ns::roster), "item");
  e.set("jid", item.contact);
  if (removed) {
    e.set("subscription", "remove");
    return e;
  }
  if (!item.name.empty()) e.set("name", item.name);
  e.set("subscription", subscription_of(item));
  if (item.ask) e.set("ask", "subscribe");
  if (item.approved) e.set("approved", "true");
  for (const auto& g : item.groups) e.add(std::string(ns::roster), "group").add_text(g);
  return e;
}

stanza_ptr presence(std::string_view type, const std::string& from, const std::string& to) {
  auto p = std::make_shared<xml::element>(std::string(ns::client), "presence");
  if (!type.empty()) p->set("type", type);
  p->set("from", from);
  p->set("to", to);
  return p;
}

// The same presence, addressed to `to` (a probe's answer, a new subscriber's first look).
stanza_ptr readdressed(const stanza_ptr& p, const std::string& to) {
  auto copy = std::make_shared<xml::element>(*p);
  copy->set("to", to);
  return copy;
}

}  // namespace

void shard_router::with_roster(const jid& account, std::function<void(roster_state&)> then) {
  const std::string key = account.bare_str();
  auto& roster = rosters_[key];
  if (roster.loaded) {
    then(roster);
    return forget_roster_if_idle(key);
  }
  roster.waiting.push_back(std::move(then));
  if (roster.waiting.size() > 1) return;  // being read already
  const unsigned here = home_.index();
  auto& rt = owner_.rt();
  owner_.users().write("xmpp roster, reading",
                       [this, here, &rt, key, local = account.local(), domain = account.domain()](users::user_store& s) {
                         auto items = std::make_shared<std::vector<users::roster_item>>(s.roster(local, domain));
                         const auto version = s.roster_version(local, domain);
                         auto blocked = std::make_shared<std::vector<std::string>>(s.blocklist(key));
                         rt.post(here, [this, key, items, version, blocked] {
                           auto& roster = rosters_[key];  // elements of an unordered_map stay put
                           roster.loaded = true;
                           roster.version = version;
                           roster.blocked.insert(blocked->begin(), blocked->end());
                           for (auto& i : *items) roster.items[i.contact] = std::move(i);
                           auto waiting = std::move(roster.waiting);
                           roster.waiting.clear();
                           for (auto& f : waiting) f(roster);
                           forget_roster_if_idle(key);  // after all of them: they share `roster`
                         });
                       });
}

void shard_router::keep_item(const jid& account, roster_state& roster, const users::roster_item& item, bool push) {
  roster.items[item.contact] = item;
  ++roster.version;
  owner_.users().write("xmpp roster, keeping", [local = account.local(), domain = account.domain(),
                                                item](users::user_store& s) { s.put_roster_item(local, domain, item); });
  if (push) push_item(account, roster, item, false);
}

void shard_router::push_item(const jid& account, const roster_state& roster, const users::roster_item& item,
                             bool removed) {
  auto it = accounts_.find(account.bare_str());
  if (it == accounts_.end()) return;
  for (const auto& r : it->second) {
    if (!r.roster_requested) continue;
    auto push = std::make_shared<xml::element>(std::string(ns::client), "iq");
    push->set("type", "set");
    push->set("id", "push-" + std::to_string(roster.version));
    push->set("to", account.with_resource(r.name).str());
    auto& query = push->add(std::string(ns::roster), "query");
    query.set("ver", std::to_string(roster.version));
    query.add(item_element(item, removed));
    send_to(r, push);
  }
}

void shard_router::account_iq(const jid& from, const stanza_ptr& iq) {
  if (iq->child(ns::mam, "query") || iq->child(ns::mam, "prefs")) return archive_iq(from, iq);
  if (iq->child(ns::vcard, "vCard")) return vcard_iq(from, iq, from.bare());
  if (iq->child(ns::private_xml, "query")) return private_iq(from, iq);
  if (iq->child_in(ns::blocking)) return blocking_iq(from, iq);
  if (iq->child(pep_ns::pubsub, "pubsub") || iq->child(pep_ns::owner, "pubsub") || iq->child(ns::disco_items, "query"))
    return pep_iq(from, iq, from.bare());
  roster_iq(from, iq);
}

void shard_router::roster_iq(const jid& from, const stanza_ptr& iq) {
  with_roster(from, [this, from, iq](roster_state& roster) {
    auto reply = std::make_shared<xml::element>(std::string(ns::client), "iq");
    reply->set("id", iq->attr("id"));
    reply->set("to", from.str());
    const xml::element* query = iq->child(ns::roster, "query");
    auto fail = [&](std::string_view type, std::string_view condition) {
      reply->set("type", "error");
      auto& e = reply->add(std::string(ns::client), "error");
      e.set("type", type);
      e.add(std::string(ns::stanza_errors), std::string(condition));
      owner_.route(from, reply);
    };
    if (!query) return fail("cancel", "service-unavailable");
    reply->set("type", "result");
    const jid account = from.bare();
    if (iq->attr("type") == "get") {
      if (auto a = accounts_.find(account.bare_str()); a != accounts_.end())
        for (auto& r : a->second)
          if (r.name == from.resource()) r.roster_requested = true;
      // RFC 6121 §2.6.3: a client whose version is current gets no roster, only the pushes after.
      const std::string version = std::to_string(roster.version);
      if (query->has("ver") && query->attr("ver") == version) return owner_.route(from, reply);
      auto& q = reply->add(std::string(ns::roster), "query");
      q.set("ver", version);
      for (const auto& [contact, item] : roster.items)
        if (item.listed) q.add(item_element(item, false));
      return owner_.route(from, reply);
    }
    std::vector<const xml::element*> items;
    for (const auto& c : query->children())
      if (c.is(ns::roster, "item")) items.push_back(&c);
    if (items.size() != 1) return fail("modify", "bad-request");
    const auto contact = jid::parse(items[0]->attr("jid"));
    if (!contact || !contact->is_bare() || *contact == account) return fail("modify", "bad-request");
    const std::string key = contact->bare_str();
    if (items[0]->attr("subscription") == "remove") {
      auto it = roster.items.find(key);
      if (it == roster.items.end() || !it->second.listed) return fail("cancel", "item-not-found");
      // Removing a contact ends both subscriptions (RFC 6121 §2.5.2).
      const users::roster_item gone = it->second;
      if (gone.to || gone.ask) owner_.route(*contact, presence("unsubscribe", account.str(), key));
      if (gone.from) owner_.route(*contact, presence("unsubscribed", account.str(), key));
      roster.items.erase(it);
      ++roster.version;
      owner_.users().write("xmpp roster, removing", [local = account.local(), domain = account.domain(),
                                                     key](users::user_store& s) { s.remove_roster_item(local, domain, key); });
      push_item(account, roster, gone, true);
      return owner_.route(from, reply);
    }
    users::roster_item item;
    item.contact = key;
    if (auto it = roster.items.find(key); it != roster.items.end()) item = it->second;
    item.listed = true;
    item.name = std::string(items[0]->attr("name"));
    item.groups.clear();
    for (const auto& g : items[0]->children())
      if (g.is(ns::roster, "group") && !g.text().empty()) item.groups.push_back(g.text());
    keep_item(account, roster, item, true);
    owner_.route(from, reply);
  });
}

void shard_router::outbound_subscription(const jid& from, const jid& to, const stanza_ptr& stanza) {
  const jid account = from.bare();
  with_roster(account, [this, account, to, stanza](roster_state& roster) {
    const std::string key = to.bare_str();
    const std::string_view type = stanza->attr("type");
    users::roster_item item;
    item.contact = key;
    if (auto it = roster.items.find(key); it != roster.items.end()) item = it->second;
    if (type == "subscribe") {
      if (!item.to && !item.ask) {
        item.ask = true;
        item.listed = true;
        keep_item(account, roster, item, true);
      }
      return owner_.route(to, stanza);
    }
    if (type == "subscribed") {
      if (!item.pending_in) {
        // Approved before the contact asked (RFC 6121 §3.4): kept, not sent.
        if (!item.from && !item.approved) {
          item.approved = true;
          keep_item(account, roster, item, true);
        }
        return;
      }
      item.from = true;
      item.pending_in = false;
      item.listed = true;
      keep_item(account, roster, item, true);
      owner_.route(to, stanza);
      // The new subscriber sees the account's presence now (RFC 6121 §3.1.5).
      if (auto it = accounts_.find(account.bare_str()); it != accounts_.end())
        for (const auto& r : it->second)
          if (r.available && r.last_presence) owner_.route(to, readdressed(r.last_presence, key));
      return;
    }
    if (type == "unsubscribe") {
      if (!item.to && !item.ask) return owner_.route(to, stanza);
      item.to = item.ask = false;
      keep_item(account, roster, item, true);
      return owner_.route(to, stanza);
    }
    if (type == "unsubscribed") {
      if (!item.from && !item.pending_in && !item.approved) return owner_.route(to, stanza);
      item.from = item.pending_in = item.approved = false;
      keep_item(account, roster, item, true);
      owner_.route(to, stanza);
      // Who can no longer see the account sees it leave (RFC 6121 §3.2.2).
      if (auto it = accounts_.find(account.bare_str()); it != accounts_.end())
        for (const auto& r : it->second)
          if (r.available) owner_.route(to, presence("unavailable", account.with_resource(r.name).str(), key));
    }
  });
}

// An account away keeps no roster in memory: it is read again when next needed.
void shard_router::forget_roster_if_idle(const std::string& account) {
  if (accounts_.contains(account)) return;
  if (auto r = rosters_.find(account); r != rosters_.end() && r->second.loaded && r->second.waiting.empty())
    rosters_.erase(r);
}

void shard_router::inbound_subscription(const jid& to, const stanza_ptr& stanza) {
  const auto sender = jid::parse(stanza->attr("from"));
  if (!sender) return;
  const jid account = to.bare();
  const jid contact = sender->bare();
  // Only an account that exists has a roster to change (RFC 6121 §3.1.3: a request for one that
  // does not is answered "unsubscribed").
  auto& users = owner_.users();
  switch (users.find(home_.index(), account.local(), account.domain())) {
    case users::cached::unknown:
      users.fetch_user(home_.index(), account.local(), account.domain(),
                       [this, to, stanza] { inbound_subscription(to, stanza); });
      return;
    case users::cached::absent:
      if (stanza->attr("type") == "subscribe")
        owner_.route(contact, presence("unsubscribed", account.str(), contact.bare_str()));
      return;
    case users::cached::failed: return;
    case users::cached::found: break;
  }
  with_roster(account, [this, account, contact, stanza](roster_state& roster) {
    handle_inbound_subscription(account, contact, stanza, roster);
  });
}

void shard_router::handle_inbound_subscription(const jid& account, const jid& contact, const stanza_ptr& stanza,
                                               roster_state& roster) {
  const std::string key = contact.bare_str();
  const std::string_view type = stanza->attr("type");
  users::roster_item item;
  item.contact = key;
  if (auto it = roster.items.find(key); it != roster.items.end()) item = it->second;
  auto deliver = [&] {
    if (auto it = accounts_.find(account.bare_str()); it != accounts_.end())
      for (const auto& r : it->second)
        if (r.available) send_to(r, stanza);
  };
  if (type == "subscribe") {
    if (item.from) return owner_.route(contact, presence("subscribed", account.str(), key));
    if (item.approved) {
      item.from = true;
      item.approved = false;
      keep_item(account, roster, item, true);
      return owner_.route(contact, presence("subscribed", account.str(), key));
    }
    if (!item.pending_in) {
      item.pending_in = true;
      keep_item(account, roster, item, item.listed);
    }
    return deliver();  // and again to each resource that becomes available
  }
  if (type == "subscribed") {
    if (!item.ask) return;  // nothing was asked
    item.to = true;
    item.ask = false;
    keep_item(account, roster, item, true);
    return deliver();
  }
  if (type == "unsubscribe") {
    if (!item.from && !item.pending_in) return;
    item.from = item.pending_in = false;
    keep_item(account, roster, item, item.listed);
    deliver();
    // The contact no longer sees the account: it sees it leave.
    if (auto it = accounts_.find(account.bare_str()); it != accounts_.end())
      for (const auto& r : it->second)
        if (r.available) owner_.route(contact, presence("unavailable", account.with_resource(r.name).str(), key));
    return;
  }
  if (type == "unsubscribed") {
    if (!item.to && !item.ask) return;
    item.to = item.ask = false;
    keep_item(account, roster, item, true);
    deliver();
  }
}

void shard_router::answer_probe(const jid& to, const jid& from) {
  const jid account = to.bare();
  const jid asker = from.bare();
  // An account with no resource has no presence to give (RFC 6121 §4.3.2 lets it say nothing).
  if (!accounts_.contains(account.bare_str())) return;
  with_roster(account, [this, account, asker](roster_state& roster) {
    auto item = roster.items.find(asker.bare_str());
    if (item == roster.items.end() || !item->second.from) return;  // not a subscriber: nothing (RFC 6121 §4.3.2)
    if (auto it = accounts_.find(account.bare_str()); it != accounts_.end())
      for (const auto& r : it->second)
        if (r.available && r.last_presence) owner_.route(asker, readdressed(r.last_presence, asker.str()));
  });
}

void shard_router::presence_to_subscribers(const jid& from, const stanza_ptr& stanza) {
  with_roster(from.bare(), [this, stanza](roster_state& roster) {
    for (const auto& [contact, item] : roster.items)
      if (item.from)
        if (auto to = jid::parse(contact)) owner_.route(*to, readdressed(stanza, contact));
  });
}

void shard_router::after_initial_presence(const jid& account, const resource& r) {
  const resource target = r;
  with_roster(account, [this, account, target](roster_state& roster) {
    for (const auto& [contact, item] : roster.items) {
      auto to = jid::parse(contact);
      if (!to) continue;
      // Probes to whom the account sees (RFC 6121 §4.2.2), and requests it has not answered.
      if (item.to) owner_.route(*to, presence("probe", account.str(), contact));
      if (item.pending_in) send_to(target, presence("subscribe", contact, account.str()));
    }
  });
}

}  // namespace junction::xmpp
