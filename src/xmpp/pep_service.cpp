// Personal eventing (XEP-0163) on the account's home shard: the account's nodes (pep_account,
// read from the user store when first needed, written through), its requests, and who hears of
// what is published. As in XEP-0163 §4 a recipient is a full JID whose available presence came
// to the account (its own resources, and contacts' resources), and its interests are the
// "<node>+notify" features of its entity capabilities (XEP-0115), asked of it once per version
// per shard and verified before they are shared. A new recipient gets each node's last item.
#include <algorithm>

#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "users/user_directory.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/pep_account.hpp"
#include "xmpp/server.hpp"
#include "xmpp/server_caps.hpp"

namespace junction::xmpp {
namespace {

constexpr std::string_view caps_ns = "http://jabber.org/protocol/caps";
constexpr std::size_t max_recipients = 1000;   // per account
constexpr std::size_t max_known_caps = 10000;  // per shard

std::shared_ptr<const std::set<std::string>> interests_of(const xml::element* query) {
  auto out = std::make_shared<std::set<std::string>>();
  if (!query) return out;
  constexpr std::string_view suffix = "+notify";
  for (const auto& c : query->children())
    if (c.is(ns::disco_info, "feature") && c.attr("var").ends_with(suffix)) {
      const std::string_view var = c.attr("var");
      out->emplace(var.substr(0, var.size() - suffix.size()));
    }
  return out;
}

}  // namespace

pep_relation shard_router::relation_of(const roster_state& roster, const jid& owner, const jid& who) const {
  if (who.bare() == owner.bare()) return pep_relation::owner;
  auto it = roster.items.find(who.bare_str());
  if (it == roster.items.end()) return pep_relation::stranger;
  if (it->second.from) return pep_relation::subscriber;
  return it->second.listed ? pep_relation::contact : pep_relation::stranger;
}

void shard_router::with_pep(const jid& account, std::function<void(pep_state&)> then) {
  const std::string key = account.bare_str();
  auto& state = peps_[key];
  if (state.loaded) {
    then(state);
    return forget_pep_if_idle(key);
  }
  state.waiting.push_back(std::move(then));
  if (state.waiting.size() > 1) return;
  const unsigned here = home_.index();
  auto& rt = owner_.rt();
  owner_.users().write("xmpp pep, reading", [this, here, &rt, key](users::user_store& s) {
    auto nodes = std::make_shared<std::vector<users::stored_pep_node>>(s.pep_nodes(key));
    rt.post(here, [this, key, nodes] {
      auto& state = peps_[key];
      state.loaded = true;
      for (auto& n : *nodes) {
        state.service.adopt(n.node, pep_node_config::parse(n.config));
        for (auto& [id, text] : n.items) state.service.adopt_item(n.node, std::move(id), std::move(text));
      }
      auto waiting = std::move(state.waiting);
      state.waiting.clear();
      for (auto& f : waiting) f(state);
      forget_pep_if_idle(key);
    });
  });
}

void shard_router::forget_pep_if_idle(const std::string& account) {
  auto it = peps_.find(account);
  if (it == peps_.end() || !it->second.waiting.empty() || it->second.busy > 0 || accounts_.contains(account)) return;
  peps_.erase(it);
}

void shard_router::with_pep_and_roster(const jid& account, std::function<void(pep_state&, roster_state&)> then) {
  with_pep(account, [this, account, then = std::move(then)](pep_state& pinned) {
    ++pinned.busy;  // kept while the roster is read
    with_roster(account, [this, account, then](roster_state& roster) {
      const std::string key = account.bare_str();
      auto& state = peps_[key];
      --state.busy;
      then(state, roster);
      forget_pep_if_idle(key);
    });
  });
}

void shard_router::pep_iq(const jid& from, const stanza_ptr& iq, const jid& owner) {
  const jid account = owner.bare();
  with_pep_and_roster(account, [this, from, iq, account](pep_state& state, roster_state& roster) {
    const pep_relation who = relation_of(roster, account, from);
    auto addressed = [&](std::shared_ptr<xml::element> reply) {
      reply->set("to", from.str());
      if (iq->has("to")) reply->set("from", account.str());
      else reply->erase("from");
      owner_.route(from, std::move(reply));
    };
    // The account's disco (XEP-0030): what it is, and the nodes the asker may read.
    if (iq->attr("type") == "get" && iq->child(ns::disco_items, "query")) {
      auto reply = pep_iq_result(*iq);
      auto& q = reply->add(std::string(ns::disco_items), "query");
      if (!iq->child(ns::disco_items, "query")->has("node"))
        for (const auto& node : state.service.visible_nodes(who))
          q.add(std::string(ns::disco_items), "item").set("jid", account.str()).set("node", node);
      return addressed(std::move(reply));
    }
    if (iq->attr("type") == "get" && iq->child(ns::disco_info, "query")) {
      auto reply = pep_iq_result(*iq);
      auto& q = reply->add(std::string(ns::disco_info), "query");
      q.add(std::string(ns::disco_info), "identity").set("category", "account").set("type", "registered");
      q.add(std::string(ns::disco_info), "identity").set("category", "pubsub").set("type", "pep");
      for (std::string_view f : pep_features()) q.add(std::string(ns::disco_info), "feature").set("var", f);
      return addressed(std::move(reply));
    }
    pep_answer answer = state.service.handle(*iq, who);
    addressed(std::move(answer.reply));
    if (answer.changes.empty()) return;
    keep_pep_changes(account, state, answer.changes);
    pep_notify(account, state, roster, answer.changes);
  });
}

void shard_router::keep_pep_changes(const jid& account, const pep_state& state, const std::vector<pep_change>& changes) {
  struct op {
    pep_change::kind what;
    std::string node, id, text;
  };
  std::vector<op> ops;
  for (const auto& c : changes) {
    const pep_node* n = state.service.node(c.node);
    op o{c.what, c.node, c.item_id, {}};
    if (c.what == pep_change::kind::created || c.what == pep_change::kind::configured) {
      if (!n) continue;
      o.text = n->config.text();
    } else if (c.what == pep_change::kind::published) {
      if (!n || !n->config.persist_items) continue;
      auto it = std::find_if(n->items.begin(), n->items.end(), [&](const pep_item& i) { return i.id == c.item_id; });
      if (it == n->items.end()) continue;
      o.text = it->text;
    }
    ops.push_back(std::move(o));
  }
  if (ops.empty()) return;
  owner_.users().write("xmpp pep, keeping", [owner = account.bare_str(), ops = std::move(ops)](users::user_store& s) {
    for (const auto& o : ops) switch (o.what) {
        case pep_change::kind::created:
        case pep_change::kind::configured: s.put_pep_node(owner, o.node, o.text); break;
        case pep_change::kind::published: s.put_pep_item(owner, o.node, o.id, o.text); break;
        case pep_change::kind::retracted:
        case pep_change::kind::dropped: s.drop_pep_item(owner, o.node, o.id); break;
        case pep_change::kind::purged: s.drop_pep_items(owner, o.node); break;
        case pep_change::kind::deleted: s.drop_pep_node(owner, o.node); break;
      }
  });
}

void shard_router::pep_notify(const jid& account, const pep_state& state, const roster_state& roster,
                              const std::vector<pep_change>& changes) {
  auto recipients = pep_recipients_.find(account.bare_str());
  if (recipients == pep_recipients_.end()) return;
  for (const auto& c : changes) {
    auto event = state.service.event_for(c);
    if (!event) continue;
    // A deleted node's readers were its readers before: only the owner's resources hear of it.
    const pep_node* n = state.service.node(c.node);
    const auto model = n ? n->config.access_model : pep_node_config::access::whitelist;
    for (const auto& [full, ver] : recipients->second) {
      auto interests = caps_interests_.find(ver);
      if (interests == caps_interests_.end() || !interests->second->contains(c.node)) continue;
      const auto to = jid::parse(full);
      if (!to || !pep_may_read(model, relation_of(roster, account, *to))) continue;
      send_pep_event(account, *to, *event);
    }
  }
}

void shard_router::send_pep_event(const jid& account, const jid& to, const xml::element& event) {
  auto m = std::make_shared<xml::element>(std::string(ns::client), "message");
  m->set("from", account.str()).set("to", to.str()).set("type", "headline");
  m->add(event);
  owner_.route(to, std::move(m));
}

void shard_router::pep_presence(const jid& account, const jid& from, const xml::element& presence) {
  if (from.is_bare()) return;
  const std::string key = account.bare_str();
  const std::string_view type = presence.attr("type");
  if (type == "unavailable") {
    if (auto it = pep_recipients_.find(key); it != pep_recipients_.end()) {
      it->second.erase(from.str());
      if (it->second.empty()) pep_recipients_.erase(it);
    }
    return;
  }
  if (!type.empty()) return;
  const xml::element* c = presence.child(caps_ns, "c");
  if (!c || c->attr("ver").empty()) return;
  const std::string ver(c->attr("ver"));
  auto& known = pep_recipients_[key];
  auto it = known.find(from.str());
  if (it != known.end() && it->second == ver) return;  // the same recipient with the same interests
  if (it == known.end() && known.size() >= max_recipients) return;
  known[from.str()] = ver;
  if (auto interests = caps_interests_.find(ver); interests != caps_interests_.end())
    return pep_send_last(account, from, interests->second);
  // Asked once per version on this shard; whoever shows it meanwhile waits for the answer.
  // A question unanswered for a minute is given up (its client may never answer): asked again.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(caps_queries_, [&](const auto& q) { return now - q.second.since > std::chrono::minutes(1); });
  for (auto& [id, q] : caps_queries_)
    if (q.ver == ver) {
      if (q.waiting.size() < max_recipients) q.waiting.emplace_back(key, from.str());
      return;
    }
  if (caps_queries_.size() >= max_recipients) return;
  const std::string id = "caps-" + std::to_string(++caps_asked_);
  auto& q = caps_queries_[id];
  q.ver = ver;
  q.asked = from.str();
  q.hashed = c->attr("hash") == "sha-1";
  q.since = now;
  q.waiting.emplace_back(key, from.str());
  auto ask = std::make_shared<xml::element>(std::string(ns::client), "iq");
  ask->set("type", "get").set("id", id).set("from", key).set("to", from.str());
  ask->add(std::string(ns::disco_info), "query").set("node", std::string(c->attr("node")) + "#" + ver);
  owner_.route(from, std::move(ask));
}

bool shard_router::pep_caps_answer(const stanza_ptr& iq) {
  auto it = caps_queries_.find(std::string(iq->attr("id")));
  if (it == caps_queries_.end() || iq->attr("from") != it->second.asked) return false;
  caps_query q = std::move(it->second);
  caps_queries_.erase(it);
  const xml::element* query = iq->attr("type") == "result" ? iq->child(ns::disco_info, "query") : nullptr;
  auto interests = interests_of(query);
  // Shared by version only when the answer is what the version says (else one client could
  // speak for every client of that version).
  const bool verified = query && q.hashed && caps_ver_of(*query) == q.ver;
  if (verified) {
    if (caps_interests_.size() >= max_known_caps) caps_interests_.clear();
    caps_interests_[q.ver] = interests;
  }
  for (const auto& [account, full] : q.waiting) {
    const auto who = jid::parse(full);
    const auto owner = jid::parse(account);
    if (!who || !owner) continue;
    if (!verified) {
      // Not shared: this recipient only, remembered under a name no version has.
      const std::string own = "jid:" + full;
      if (caps_interests_.size() >= max_known_caps) caps_interests_.clear();
      caps_interests_[own] = interests;
      if (auto r = pep_recipients_.find(account); r != pep_recipients_.end())
        if (auto e = r->second.find(full); e != r->second.end()) e->second = own;
    }
    pep_send_last(*owner, *who, interests);
  }
  return true;
}

void shard_router::pep_send_last(const jid& account, const jid& to, std::shared_ptr<const std::set<std::string>> interests) {
  if (interests->empty()) return;
  with_pep_and_roster(account, [this, account, to, interests](pep_state& state, roster_state& roster) {
    const pep_relation who = relation_of(roster, account, to);
    for (const auto& event : state.service.last_items(who)) {
      const xml::element* items = event->child(pep_ns::event, "items");
      if (items && interests->contains(std::string(items->attr("node")))) send_pep_event(account, to, *event);
    }
  });
}

}  // namespace junction::xmpp
