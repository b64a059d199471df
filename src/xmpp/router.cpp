#include "xmpp/router.hpp"

#include <algorithm>
#include <charconv>

#include "core/home_shard.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {

unsigned home_of(const jid& address, unsigned shards) noexcept {
  std::string key = "sip:";
  key += address.bare_str();
  return home_shard(key, shards);
}

shard_router::shard_router(server& owner, shard&) : owner_(owner) {}

void shard_router::attach(std::uint64_t id, stanza_sink& sink) { streams_[id] = &sink; }
void shard_router::detach(std::uint64_t id) { streams_.erase(id); }

void shard_router::deliver_here(std::uint64_t id, const stanza_ptr& stanza) {
  if (auto it = streams_.find(id); it != streams_.end()) it->second->deliver(*stanza);
}

void shard_router::kick_here(std::uint64_t id, std::string_view condition, std::string_view text) {
  if (auto it = streams_.find(id); it != streams_.end()) it->second->kick(condition, text);
}

void shard_router::bind(const jid& address, unsigned shard, std::uint64_t stream) {
  auto& list = accounts_[address.bare_str()];
  for (auto& r : list) {
    if (r.name != address.resource()) continue;
    // The resource is taken: the newer login wins, the older stream ends (RFC 6120 §7.7.2.2).
    owner_.kick(r.shard, r.stream, "conflict", "the same resource logged in again");
    r = resource{address.resource(), shard, stream};
    return;
  }
  list.push_back(resource{address.resource(), shard, stream});
  ++resources_;
}

void shard_router::unbind(const jid& address, std::uint64_t stream) {
  auto it = accounts_.find(address.bare_str());
  if (it == accounts_.end()) return;
  const auto before = it->second.size();
  std::erase_if(it->second, [&](const resource& r) { return r.name == address.resource() && r.stream == stream; });
  resources_ -= before - it->second.size();
  if (it->second.empty()) accounts_.erase(it);
}

void shard_router::send_to(const resource& r, const stanza_ptr& stanza) { owner_.deliver(r.shard, r.stream, stanza); }

void shard_router::broadcast(const jid& from, std::uint64_t stream, const stanza_ptr& presence) {
  auto it = accounts_.find(from.bare_str());
  if (it == accounts_.end()) return;
  const std::string_view type = presence->attr("type");
  if (!type.empty() && type != "unavailable") return;  // subscriptions and probes need a recipient
  for (auto& r : it->second) {
    if (r.name != from.resource() || r.stream != stream) continue;
    r.available = type.empty();
    int priority = 0;
    const std::string text = presence->child_text(ns::client, "priority");
    if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), priority);
    r.priority = std::clamp(priority, -128, 127);
  }
  for (const auto& r : it->second)
    if (r.available || (r.name == from.resource() && r.stream == stream)) send_to(r, presence);
}

void shard_router::route(const jid& to, const stanza_ptr& stanza) {
  const std::string& kind = stanza->name();
  const std::string_view type = stanza->attr("type");
  auto it = accounts_.find(to.bare_str());
  const std::vector<resource> none;
  const auto& list = it == accounts_.end() ? none : it->second;
  if (!to.is_bare()) {
    for (const auto& r : list)
      if (r.name == to.resource()) return send_to(r, stanza);
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
    bool sent = false;
    for (const auto& r : list)
      if (r.available && r.priority == best && best >= 0) {
        send_to(r, stanza);
        sent = true;
      }
    if (!sent && type != "error" && type != "groupchat" && type != "headline")
      bounce(*stanza, "cancel", "service-unavailable");
    return;
  }
  if (kind == "presence") {
    for (const auto& r : list)
      if (r.available) send_to(r, stanza);
    return;
  }
  // An iq for an account: what the server answers for it is the sender's stream's to do; one
  // that reached here has no one to answer it.
  bounce(*stanza, "cancel", "service-unavailable");
}

void shard_router::bounce(const xml::element& stanza, std::string_view type, std::string_view condition) {
  if (stanza.attr("type") == "error") return;
  const auto sender = jid::parse(stanza.attr("from"));
  if (!sender) return;
  auto error = std::make_shared<xml::element>(stanza);
  error->set("type", "error");
  error->set("from", stanza.attr("to"));
  error->set("to", stanza.attr("from"));
  auto& e = error->add(std::string(ns::client), "error");
  e.set("type", type);
  e.add(std::string(ns::stanza_errors), std::string(condition));
  owner_.route(*sender, std::move(error));
}

}  // namespace junction::xmpp
