// What a user publishes and refuses, on the account's home shard: its vCard (XEP-0054, kept in
// the user store as the XML it was set with) and its blocklist (XEP-0191: read with the roster,
// enforced here for what comes to the account and by each of its streams for what they send).
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "users/user_directory.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/iq_reply.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

constexpr std::string_view vcard_ns = "vcard-temp";
constexpr std::size_t max_vcard = 64 * 1024;

}  // namespace

void shard_router::vcard_iq(const jid& from, const stanza_ptr& iq, const jid& owner) {
  const std::string_view type = iq->attr("type");
  if (type == "set") {
    const xml::element* v = iq->child(vcard_ns, "vCard");
    if (from.bare() != owner) return owner_.route(from, shared(iq_error(*iq, "auth", "forbidden")));
    std::string text = v ? xml::to_string(*v, {}) : std::string{};
    if (!v || text.size() > max_vcard) return owner_.route(from, shared(iq_error(*iq, "modify", "not-acceptable")));
    owner_.users().write("xmpp vcard, keeping",
                         [key = owner.bare_str(), text = std::move(text)](users::user_store& s) { s.put_vcard(key, text); });
    return owner_.route(from, shared(iq_result(*iq)));
  }
  if (type != "get") return;
  const unsigned here = home_.index();
  auto& rt = owner_.rt();
  owner_.users().write("xmpp vcard, reading", [this, here, &rt, from, iq, key = owner.bare_str()](users::user_store& s) {
    auto found = std::make_shared<std::optional<std::string>>(s.vcard(key));
    rt.post(here, [this, from, iq, found] {
      if (!*found) return owner_.route(from, shared(iq_error(*iq, "cancel", "item-not-found")));
      auto reply = shared(iq_result(*iq));
      if (auto v = xml::parse_fragment(**found, vcard_ns)) reply->add(std::move(*v));
      owner_.route(from, std::move(reply));
    });
  });
}

void shard_router::blocking_iq(const jid& from, const stanza_ptr& iq) {
  with_roster(from, [this, from, iq](roster_state& roster) {
    const jid account = from.bare();
    const std::string_view type = iq->attr("type");
    if (type == "get" && iq->child(ns::blocking, "blocklist")) {
      if (auto a = accounts_.find(account.bare_str()); a != accounts_.end())
        for (auto& r : a->second)
          if (r.name == from.resource()) r.blocklist_requested = true;
      auto reply = shared(iq_result(*iq));
      auto& list = reply->add(std::string(ns::blocking), "blocklist");
      for (const auto& who : roster.blocked) list.add(std::string(ns::blocking), "item").set("jid", who);
      return owner_.route(from, std::move(reply));
    }
    const xml::element* change = type == "set" ? iq->child(ns::blocking, "block") : nullptr;
    const bool block = change != nullptr;
    if (!change && type == "set") change = iq->child(ns::blocking, "unblock");
    if (!change) return owner_.route(from, shared(iq_error(*iq, "cancel", "service-unavailable")));
    std::vector<std::string> items;
    for (const auto& c : change->children())
      if (c.is(ns::blocking, "item")) {
        const auto who = jid::parse(c.attr("jid"));
        if (!who) return owner_.route(from, shared(iq_error(*iq, "modify", "jid-malformed")));
        items.push_back(who->str());
      }
    if (block && items.empty()) return owner_.route(from, shared(iq_error(*iq, "modify", "bad-request")));
    if (!block && items.empty()) items.assign(roster.blocked.begin(), roster.blocked.end());  // unblock all
    if (roster.blocked.size() + items.size() > 10000) return owner_.route(from, shared(iq_error(*iq, "wait", "resource-constraint")));
    for (const auto& who : items) {
      if (block) roster.blocked.insert(who);
      else roster.blocked.erase(who);
    }
    owner_.users().write("xmpp blocklist, changing", [key = account.bare_str(), items, block](users::user_store& s) {
      for (const auto& who : items) s.block(key, who, block);
    });
    owner_.route(from, shared(iq_result(*iq)));
    auto it = accounts_.find(account.bare_str());
    if (it == accounts_.end()) return;
    // The account's resources that asked for the list hear of the change (XEP-0191 §3.3), and
    // every stream of the account now refuses to send to what is blocked.
    auto now = std::make_shared<const std::set<std::string>>(roster.blocked);
    for (const auto& r : it->second) {
      owner_.blocklist_to(r.shard, r.stream, now);
      if (!r.blocklist_requested) continue;
      auto push = std::make_shared<xml::element>(std::string(ns::client), "iq");
      push->set("type", "set").set("id", "block-push").set("to", account.with_resource(r.name).str());
      auto& p = push->add(std::string(ns::blocking), block ? "block" : "unblock");
      for (const auto& who : items) p.add(std::string(ns::blocking), "item").set("jid", who);
      send_to(r, push);
    }
    // Those blocked now see the account go (§3.3.1).
    if (block)
      for (const auto& r : it->second)
        if (r.available)
          for (const auto& who : items) {
            const auto to = jid::parse(who);
            if (!to) continue;
            auto gone = std::make_shared<xml::element>(std::string(ns::client), "presence");
            gone->set("type", "unavailable").set("from", account.with_resource(r.name).str()).set("to", who);
            owner_.route(*to, std::move(gone));
          }
  });
}

}  // namespace junction::xmpp
