#include "xmpp/bookmarks_compat.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "xml/stream_parser.hpp"
#include "xmpp/jid.hpp"

namespace junction::xmpp {
namespace {

using namespace bookmarks_ns;

bool truthy(std::string_view v) { return v == "true" || v == "1"; }

const xml::element* payload_of(const pep_item& item) {
  for (const auto& c : item.item->children())
    if (c.is(node, "conference")) return &c;
  return nullptr;
}

// The XEP-0402 conference for a XEP-0048 one, over what the node has for the room (its
// extensions, and anything else a new client put there, kept).
xml::element modern_conference(const xml::element& old, const xml::element* before) {
  xml::element c = before ? *before : xml::element(std::string(node), "conference");
  c.erase("name");
  c.erase("autojoin");
  if (!old.attr("name").empty()) c.set("name", old.attr("name"));
  if (truthy(old.attr("autojoin"))) c.set("autojoin", "true");
  c.remove_children(node, "nick");
  c.remove_children(node, "password");
  // nick and password before any extensions, as XEP-0402's schema orders them.
  std::vector<xml::element> rest = std::move(c.children());
  c.children().clear();
  for (std::string_view field : {"nick", "password"})
    if (const auto* v = old.child(legacy, field); v && !v->text().empty())
      c.add(std::string(node), std::string(field)).add_text(v->text());
  for (auto& e : rest)
    if (!e.is_text()) c.add(std::move(e));
  return c;
}

xml::element request(std::string_view type, std::string_view id) {
  xml::element iq("jabber:client", "iq");
  iq.set("type", type).set("id", id);
  return iq;
}

void add_field(xml::element& form, std::string_view var, std::string_view value, bool hidden = false) {
  auto& f = form.add(std::string(pep_ns::data), "field");
  f.set("var", var);
  if (hidden) f.set("type", "hidden");
  f.add(std::string(pep_ns::data), "value").add_text(value);
}

}  // namespace

xml::element legacy_bookmarks(const pep_node* n, const xml::element* kept) {
  xml::element storage(std::string(legacy), "storage");
  if (n)
    for (const auto& item : n->items) {
      const xml::element* modern = payload_of(item);
      if (!modern) continue;
      auto& c = storage.add(std::string(legacy), "conference");
      c.set("jid", item.id);
      if (!modern->attr("name").empty()) c.set("name", modern->attr("name"));
      c.set("autojoin", truthy(modern->attr("autojoin")) ? "true" : "false");
      for (std::string_view field : {"nick", "password"})
        if (const auto* v = modern->child(node, field); v && !v->text().empty())
          c.add(std::string(legacy), std::string(field)).add_text(v->text());
    }
  if (kept)
    for (const auto& e : kept->children())
      if (e.is(legacy, "url")) storage.add(e);
  return storage;
}

legacy_bookmarks_write from_legacy_bookmarks(const xml::element& storage, const pep_node* n) {
  legacy_bookmarks_write out;
  std::set<std::string> rooms;
  bool made = n != nullptr;
  std::size_t serial = 0;
  for (const auto& e : storage.children()) {
    if (e.is(legacy, "url")) {
      out.kept.add(e);
      continue;
    }
    if (!e.is(legacy, "conference")) continue;
    const auto room = jid::parse(e.attr("jid"));
    if (!room || !room->is_bare() || room->local().empty() || !rooms.insert(room->str()).second) continue;
    const pep_item* before = nullptr;
    if (n) {
      const auto it = std::find_if(n->items.begin(), n->items.end(), [&](const pep_item& i) { return i.id == room->str(); });
      if (it != n->items.end()) before = &*it;
    }
    const xml::element* before_payload = before ? payload_of(*before) : nullptr;
    xml::element modern = modern_conference(e, before_payload);
    if (before_payload && xml::to_string(*before_payload) == xml::to_string(modern)) continue;  // unchanged
    xml::element iq = request("set", "compat-" + std::to_string(++serial));
    auto& pubsub = iq.add(std::string(pep_ns::pubsub), "pubsub");
    auto& item = pubsub.add(std::string(pep_ns::pubsub), "publish").set("node", node).add(std::string(pep_ns::pubsub), "item");
    item.set("id", room->str());
    item.add(std::move(modern));
    if (!made) {
      // The node as XEP-0402 §3 makes it: private, every room kept, nothing sent on presence.
      auto& form = pubsub.add(std::string(pep_ns::pubsub), "publish-options").add(std::string(pep_ns::data), "x");
      form.set("type", "submit");
      add_field(form, "FORM_TYPE", "http://jabber.org/protocol/pubsub#publish-options", true);
      add_field(form, "pubsub#persist_items", "true");
      add_field(form, "pubsub#max_items", "max");
      add_field(form, "pubsub#send_last_published_item", "never");
      add_field(form, "pubsub#access_model", "whitelist");
      made = true;
    }
    out.requests.push_back(std::move(iq));
  }
  if (n)
    for (const auto& item : n->items) {
      if (rooms.contains(item.id) || !payload_of(item)) continue;
      xml::element iq = request("set", "compat-" + std::to_string(++serial));
      auto& retract = iq.add(std::string(pep_ns::pubsub), "pubsub").add(std::string(pep_ns::pubsub), "retract");
      retract.set("node", node).set("notify", "true");
      retract.add(std::string(pep_ns::pubsub), "item").set("id", item.id);
      out.requests.push_back(std::move(iq));
    }
  return out;
}

}  // namespace junction::xmpp
