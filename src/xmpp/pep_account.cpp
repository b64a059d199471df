#include "xmpp/pep_account.hpp"

#include <algorithm>
#include <charconv>

#include "xml/stream_parser.hpp"
#include "xmpp/iq_reply.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {
namespace {

using access = pep_node_config::access;

std::string_view access_name(access a) {
  switch (a) {
    case access::open: return "open";
    case access::presence: return "presence";
    case access::roster: return "roster";
    case access::whitelist: return "whitelist";
  }
  return "presence";
}

std::optional<access> access_of(std::string_view s) {
  if (s == "open") return access::open;
  if (s == "presence") return access::presence;
  if (s == "roster") return access::roster;
  if (s == "whitelist") return access::whitelist;
  return std::nullopt;
}

std::optional<bool> boolean_of(std::string_view s) {
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  return std::nullopt;
}

// A data form's fields (XEP-0004), each var to its first value, FORM_TYPE left out.
std::map<std::string, std::string, std::less<>> form_fields(const xml::element* x) {
  std::map<std::string, std::string, std::less<>> out;
  if (!x) return out;
  for (const auto& f : x->children())
    if (f.is(pep_ns::data, "field") && f.attr("var") != "FORM_TYPE")
      out.emplace(std::string(f.attr("var")), f.child_text(pep_ns::data, "value"));
  return out;
}

// Applies the form's fields to `config`; false when a value is not one the service takes.
bool apply_form(const std::map<std::string, std::string, std::less<>>& fields, pep_node_config& config,
                const pep_limits& limits) {
  for (const auto& [var, value] : fields) {
    if (var == "pubsub#access_model") {
      auto a = access_of(value);
      if (!a) return false;
      config.access_model = *a;
    } else if (var == "pubsub#max_items") {
      if (value == "max") {
        config.max_items = limits.max_items;
        continue;
      }
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || p != value.data() + value.size() || n == 0) return false;
      config.max_items = std::min(n, limits.max_items);
    } else if (var == "pubsub#persist_items") {
      auto b = boolean_of(value);
      if (!b) return false;
      config.persist_items = *b;
    } else if (var == "pubsub#send_last_published_item") {
      if (value == "never") config.send_last = false;
      else if (value == "on_sub" || value == "on_sub_and_presence") config.send_last = true;
      else return false;
    }
    // Other fields (title, notify_retract, deliver_payloads …) are taken and not kept.
  }
  return true;
}

xml::element config_form(const pep_node_config& c, const pep_limits& limits, std::string_view type) {
  xml::element x(std::string(pep_ns::data), "x");
  x.set("type", type);
  auto field = [&](std::string_view var, std::string_view ftype, std::string_view value) {
    auto& f = x.add(std::string(pep_ns::data), "field");
    f.set("var", var);
    if (!ftype.empty()) f.set("type", ftype);
    f.add(std::string(pep_ns::data), "value").add_text(value);
  };
  field("FORM_TYPE", "hidden", "http://jabber.org/protocol/pubsub#node_config");
  field("pubsub#access_model", "list-single", access_name(c.access_model));
  field("pubsub#max_items", "text-single",
        c.max_items >= limits.max_items ? std::string("max") : std::to_string(c.max_items));
  field("pubsub#persist_items", "boolean", c.persist_items ? "1" : "0");
  field("pubsub#send_last_published_item", "list-single", c.send_last ? "on_sub_and_presence" : "never");
  return x;
}

bool valid_name(std::string_view s, const pep_limits& limits) { return !s.empty() && s.size() <= limits.max_id; }

}  // namespace

std::string pep_node_config::text() const {
  std::string s = "access=";
  s += access_name(access_model);
  s += ";max=" + std::to_string(max_items);
  s += persist_items ? ";persist=1" : ";persist=0";
  s += send_last ? ";last=1" : ";last=0";
  return s;
}

pep_node_config pep_node_config::parse(std::string_view text) {
  pep_node_config c;
  while (!text.empty()) {
    const auto semi = text.find(';');
    const std::string_view part = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "access") c.access_model = access_of(value).value_or(access::presence);
    else if (key == "max") std::from_chars(value.data(), value.data() + value.size(), c.max_items);
    else if (key == "persist") c.persist_items = value == "1";
    else if (key == "last") c.send_last = value == "1";
  }
  if (c.max_items == 0) c.max_items = 1;
  return c;
}

bool pep_may_read(access model, pep_relation who) noexcept {
  if (who == pep_relation::owner) return true;
  switch (model) {
    case access::open: return true;
    case access::presence: return who == pep_relation::subscriber;
    case access::roster: return who == pep_relation::subscriber || who == pep_relation::contact;
    case access::whitelist: return false;
  }
  return false;
}

std::shared_ptr<xml::element> pep_iq_result(const xml::element& iq) { return shared(iq_result(iq)); }

std::shared_ptr<xml::element> pep_iq_error(const xml::element& iq, std::string_view type, std::string_view condition,
                                           std::string_view pubsub_condition) {
  auto r = shared(iq_error(iq, type, condition));
  if (!pubsub_condition.empty())
    r->children().back().add(std::string(pep_ns::errors), std::string(pubsub_condition));
  return r;
}

const pep_node* pep_account::node(std::string_view name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

pep_node* pep_account::find(std::string_view name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

void pep_account::adopt(std::string name, pep_node_config config) {
  auto& n = nodes_[name];
  n.name = std::move(name);
  n.config = config;
}

void pep_account::adopt_item(std::string_view node, std::string id, std::string text) {
  pep_node* n = find(node);
  if (!n) return;
  auto parsed = xml::parse_fragment(text, pep_ns::pubsub);
  if (!parsed || !parsed->is(pep_ns::pubsub, "item")) return;
  bytes_ += text.size();
  n->items.push_back({std::move(id), std::make_shared<const xml::element>(std::move(*parsed)), text.size(),
                      std::move(text)});
  while (n->items.size() > n->config.max_items) {
    bytes_ -= n->items.front().bytes;
    n->items.pop_front();
  }
}

std::vector<std::string> pep_account::visible_nodes(pep_relation who) const {
  std::vector<std::string> out;
  for (const auto& [name, n] : nodes_)
    if (pep_may_read(n.config.access_model, who)) out.push_back(name);
  return out;
}

pep_answer pep_account::handle(const xml::element& iq, pep_relation who) {
  const std::string_view type = iq.attr("type");
  const xml::element* payload = iq.child_in(pep_ns::pubsub);
  if (payload && payload->name() == "pubsub") {
    for (const auto& c : payload->children()) {
      if (c.is_text()) continue;
      if (type == "set" && c.is(pep_ns::pubsub, "publish")) return publish(iq, *payload, who);
      if (type == "set" && c.is(pep_ns::pubsub, "retract")) return retract(iq, c, who);
      if (type == "set" && c.is(pep_ns::pubsub, "create")) return create(iq, *payload, who);
      if (type == "get" && c.is(pep_ns::pubsub, "items")) return items(iq, c, who);
      if (c.is(pep_ns::pubsub, "subscribe") || c.is(pep_ns::pubsub, "subscriptions") ||
          c.is(pep_ns::pubsub, "affiliations") || c.is(pep_ns::pubsub, "unsubscribe") ||
          c.is(pep_ns::pubsub, "options")) {
        // PEP's subscriptions are implicit (presence and +notify, XEP-0163 §4).
        auto e = pep_iq_error(iq, "cancel", "feature-not-implemented", "unsupported");
        e->children().back().children().back().set("feature", c.name() == "subscribe" ? "subscribe" : "retrieve-" + c.name());
        return {e, {}};
      }
    }
    return {pep_iq_error(iq, "modify", "bad-request"), {}};
  }
  if (const xml::element* owner = iq.child(pep_ns::owner, "pubsub")) return owner_request(iq, *owner, who);
  return {pep_iq_error(iq, "cancel", "service-unavailable"), {}};
}

pep_answer pep_account::publish(const xml::element& iq, const xml::element& pubsub, pep_relation who) {
  if (who != pep_relation::owner) return {pep_iq_error(iq, "auth", "forbidden"), {}};
  const xml::element* request = pubsub.child(pep_ns::pubsub, "publish");
  const std::string node_name(request->attr("node"));
  if (!valid_name(node_name, limits_)) return {pep_iq_error(iq, "modify", "bad-request", "nodeid-required"), {}};
  const xml::element* item = nullptr;
  std::size_t count = 0;
  for (const auto& c : request->children())
    if (c.is(pep_ns::pubsub, "item")) {
      item = &c;
      ++count;
    }
  if (count != 1) return {pep_iq_error(iq, "modify", "bad-request", count ? "invalid-payload" : "item-required"), {}};
  std::size_t payloads = 0;
  for (const auto& c : item->children())
    if (!c.is_text()) ++payloads;
  if (payloads != 1) return {pep_iq_error(iq, "modify", "bad-request", payloads ? "invalid-payload" : "payload-required"), {}};
  std::string id(item->attr("id"));
  if (id.size() > limits_.max_id) return {pep_iq_error(iq, "modify", "not-acceptable"), {}};

  // Publish-options (XEP-0223): how a new node is made, and a precondition on an existing one.
  pep_node_config wanted;
  const auto options = form_fields([&]() -> const xml::element* {
    const xml::element* o = pubsub.child(pep_ns::pubsub, "publish-options");
    return o ? o->child(pep_ns::data, "x") : nullptr;
  }());
  std::vector<pep_change> changes;
  pep_node* n = find(node_name);
  if (n) {
    pep_node_config required = n->config;
    if (!apply_form(options, required, limits_) || !(required == n->config))
      return {pep_iq_error(iq, "cancel", "conflict", "precondition-not-met"), {}};
  } else {
    if (!apply_form(options, wanted, limits_)) return {pep_iq_error(iq, "cancel", "conflict", "precondition-not-met"), {}};
    if (nodes_.size() >= limits_.max_nodes) return {pep_iq_error(iq, "wait", "resource-constraint"), {}};
    adopt(node_name, wanted);
    n = find(node_name);
    changes.push_back({pep_change::kind::created, node_name, {}});
  }
  if (id.empty()) id = "i" + std::to_string(++next_id_) + "-" + std::to_string(n->items.size());
  xml::element kept(std::string(pep_ns::pubsub), "item");
  kept.set("id", id);
  if (item->has("publisher")) kept.set("publisher", item->attr("publisher"));
  for (const auto& c : item->children())
    if (!c.is_text()) kept.add(c);
  std::string text = xml::to_string(kept, pep_ns::pubsub);
  // The same id again replaces the item, which becomes the newest (XEP-0060 §7.1.2).
  std::size_t freed = 0;
  auto same = std::find_if(n->items.begin(), n->items.end(), [&](const pep_item& i) { return i.id == id; });
  if (same != n->items.end()) freed = same->bytes;
  if (bytes_ - freed + text.size() > limits_.max_bytes) {
    if (changes.size() == 1 && n->items.empty()) nodes_.erase(node_name);
    return {pep_iq_error(iq, "wait", "resource-constraint"), {}};
  }
  if (same != n->items.end()) {
    bytes_ -= freed;
    n->items.erase(same);
  }
  bytes_ += text.size();
  n->items.push_back({id, std::make_shared<const xml::element>(std::move(kept)), text.size(), std::move(text)});
  changes.push_back({pep_change::kind::published, node_name, id});
  trim(*n, changes);

  auto reply = pep_iq_result(iq);
  reply->add(std::string(pep_ns::pubsub), "pubsub")
      .add(std::string(pep_ns::pubsub), "publish")
      .set("node", node_name)
      .add(std::string(pep_ns::pubsub), "item")
      .set("id", id);
  return {reply, std::move(changes)};
}

void pep_account::trim(pep_node& n, std::vector<pep_change>& changes) {
  while (n.items.size() > n.config.max_items) {
    bytes_ -= n.items.front().bytes;
    changes.push_back({pep_change::kind::dropped, n.name, n.items.front().id, false});
    n.items.pop_front();
  }
}

pep_answer pep_account::items(const xml::element& iq, const xml::element& request, pep_relation who) {
  const pep_node* n = node(request.attr("node"));
  if (!n) return {pep_iq_error(iq, "cancel", "item-not-found"), {}};
  if (!pep_may_read(n->config.access_model, who)) {
    const bool presence = n->config.access_model == access::presence;
    return {pep_iq_error(iq, "auth", presence ? "not-authorized" : "not-allowed",
                         presence ? "presence-subscription-required" : "closed-node"),
            {}};
  }
  auto reply = pep_iq_result(iq);
  auto& out = reply->add(std::string(pep_ns::pubsub), "pubsub").add(std::string(pep_ns::pubsub), "items");
  out.set("node", n->name);
  std::vector<std::string_view> ids;
  for (const auto& c : request.children())
    if (c.is(pep_ns::pubsub, "item") && c.has("id")) ids.push_back(c.attr("id"));
  if (!ids.empty()) {
    for (const auto& i : n->items)
      if (std::find(ids.begin(), ids.end(), i.id) != ids.end()) out.add(*i.item);
    return {reply, {}};
  }
  std::size_t max = n->items.size();
  if (request.has("max_items")) {
    const std::string_view v = request.attr("max_items");
    std::size_t m = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), m);
    if (ec != std::errc{} || p != v.data() + v.size()) return {pep_iq_error(iq, "modify", "bad-request"), {}};
    max = std::min(max, m);
  }
  // The newest `max`, newest first as XEP-0060 §6.5.7 shows them.
  for (auto it = n->items.rbegin(); it != n->items.rend() && max > 0; ++it, --max) out.add(*it->item);
  return {reply, {}};
}

pep_answer pep_account::retract(const xml::element& iq, const xml::element& request, pep_relation who) {
  if (who != pep_relation::owner) return {pep_iq_error(iq, "auth", "forbidden"), {}};
  pep_node* n = find(request.attr("node"));
  if (!n) return {pep_iq_error(iq, "cancel", "item-not-found"), {}};
  const bool notify = request.attr("notify") == "true" || request.attr("notify") == "1";
  std::vector<pep_change> changes;
  for (const auto& c : request.children()) {
    if (!c.is(pep_ns::pubsub, "item")) continue;
    auto it = std::find_if(n->items.begin(), n->items.end(), [&](const pep_item& i) { return i.id == c.attr("id"); });
    if (it == n->items.end()) return {pep_iq_error(iq, "cancel", "item-not-found"), {}};
    bytes_ -= it->bytes;
    changes.push_back({pep_change::kind::retracted, n->name, it->id, notify});
    n->items.erase(it);
  }
  if (changes.empty()) return {pep_iq_error(iq, "modify", "bad-request", "item-required"), {}};
  return {pep_iq_result(iq), std::move(changes)};
}

pep_answer pep_account::create(const xml::element& iq, const xml::element& pubsub, pep_relation who) {
  if (who != pep_relation::owner) return {pep_iq_error(iq, "auth", "forbidden"), {}};
  const std::string name(pubsub.child(pep_ns::pubsub, "create")->attr("node"));
  if (!valid_name(name, limits_)) return {pep_iq_error(iq, "modify", "not-acceptable", "nodeid-required"), {}};
  if (find(name)) return {pep_iq_error(iq, "cancel", "conflict"), {}};
  if (nodes_.size() >= limits_.max_nodes) return {pep_iq_error(iq, "wait", "resource-constraint"), {}};
  pep_node_config config;
  const xml::element* configure = pubsub.child(pep_ns::pubsub, "configure");
  if (!apply_form(form_fields(configure ? configure->child(pep_ns::data, "x") : nullptr), config, limits_))
    return {pep_iq_error(iq, "modify", "not-acceptable"), {}};
  adopt(name, config);
  return {pep_iq_result(iq), {{pep_change::kind::created, name, {}}}};
}

pep_answer pep_account::owner_request(const xml::element& iq, const xml::element& payload, pep_relation who) {
  if (who != pep_relation::owner) return {pep_iq_error(iq, "auth", "forbidden"), {}};
  const std::string_view type = iq.attr("type");
  for (const auto& c : payload.children()) {
    if (c.is_text()) continue;
    pep_node* n = find(c.attr("node"));
    if (c.is(pep_ns::owner, "configure")) {
      if (!n) return {pep_iq_error(iq, "cancel", "item-not-found"), {}};
      if (type == "get") {
        auto reply = pep_iq_result(iq);
        auto& conf = reply->add(std::string(pep_ns::owner), "pubsub").add(std::string(pep_ns::owner), "configure");
        conf.set("node", n->name);
        conf.add(config_form(n->config, limits_, "form"));
        return {reply, {}};
      }
      const xml::element* x = c.child(pep_ns::data, "x");
      if (x && x->attr("type") == "cancel") return {pep_iq_result(iq), {}};
      pep_node_config changed = n->config;
      if (!apply_form(form_fields(x), changed, limits_)) return {pep_iq_error(iq, "modify", "not-acceptable"), {}};
      n->config = changed;
      std::vector<pep_change> changes{{pep_change::kind::configured, n->name, {}}};
      trim(*n, changes);
      return {pep_iq_result(iq), std::move(changes)};
    }
    if (type != "set") break;
    if (c.is(pep_ns::owner, "delete")) {
      if (!n) return {pep_iq_error(iq, "cancel", "item-not-found"), {}};
      for (const auto& i : n->items) bytes_ -= i.bytes;
      const std::string name = n->name;
      nodes_.erase(name);
      return {pep_iq_result(iq), {{pep_change::kind::deleted, name, {}}}};
    }
    if (c.is(pep_ns::owner, "purge")) {
      if (!n) return {pep_iq_error(iq, "cancel", "item-not-found"), {}};
      for (const auto& i : n->items) bytes_ -= i.bytes;
      n->items.clear();
      return {pep_iq_result(iq), {{pep_change::kind::purged, n->name, {}}}};
    }
    break;
  }
  return {pep_iq_error(iq, "modify", "bad-request"), {}};
}

std::shared_ptr<xml::element> pep_account::event_for(const pep_change& change) const {
  if (!change.notify) return {};
  auto event = std::make_shared<xml::element>(std::string(pep_ns::event), "event");
  switch (change.what) {
    case pep_change::kind::published: {
      const pep_node* n = node(change.node);
      if (!n) return {};
      auto it = std::find_if(n->items.begin(), n->items.end(), [&](const pep_item& i) { return i.id == change.item_id; });
      if (it == n->items.end()) return {};
      auto& items = event->add(std::string(pep_ns::event), "items");
      items.set("node", change.node);
      items.add(*it->item).move_namespace(pep_ns::pubsub, pep_ns::event);
      return event;
    }
    case pep_change::kind::retracted: {
      auto& items = event->add(std::string(pep_ns::event), "items");
      items.set("node", change.node);
      items.add(std::string(pep_ns::event), "retract").set("id", change.item_id);
      return event;
    }
    case pep_change::kind::purged: event->add(std::string(pep_ns::event), "purge").set("node", change.node); return event;
    case pep_change::kind::deleted: event->add(std::string(pep_ns::event), "delete").set("node", change.node); return event;
    default: return {};
  }
}

std::vector<std::shared_ptr<xml::element>> pep_account::last_items(pep_relation who) const {
  std::vector<std::shared_ptr<xml::element>> out;
  for (const auto& [name, n] : nodes_) {
    if (!n.config.send_last || n.items.empty() || !pep_may_read(n.config.access_model, who)) continue;
    if (auto e = event_for({pep_change::kind::published, name, n.items.back().id})) out.push_back(std::move(e));
  }
  return out;
}

const std::vector<std::string_view>& pep_features() {
  static const std::vector<std::string_view> features{
      "http://jabber.org/protocol/pubsub",
      "http://jabber.org/protocol/pubsub#access-open",
      "http://jabber.org/protocol/pubsub#access-presence",
      "http://jabber.org/protocol/pubsub#access-roster",
      "http://jabber.org/protocol/pubsub#access-whitelist",
      "http://jabber.org/protocol/pubsub#auto-create",
      "http://jabber.org/protocol/pubsub#config-node",
      "http://jabber.org/protocol/pubsub#config-node-max",
      "http://jabber.org/protocol/pubsub#create-nodes",
      "http://jabber.org/protocol/pubsub#delete-items",
      "http://jabber.org/protocol/pubsub#delete-nodes",
      "http://jabber.org/protocol/pubsub#filtered-notifications",
      "http://jabber.org/protocol/pubsub#item-ids",
      "http://jabber.org/protocol/pubsub#last-published",
      "http://jabber.org/protocol/pubsub#persistent-items",
      "http://jabber.org/protocol/pubsub#publish",
      "http://jabber.org/protocol/pubsub#publish-options",
      "http://jabber.org/protocol/pubsub#purge-nodes",
      "http://jabber.org/protocol/pubsub#retract-items",
      "http://jabber.org/protocol/pubsub#retrieve-items",
      // Old clients' bookmarks in private storage are the bookmarks node's (bookmarks_compat.hpp).
      "urn:xmpp:bookmarks:1#compat",
  };
  return features;
}

}  // namespace junction::xmpp
