#include "xmpp/s2s_links.hpp"

#include "core/home_shard.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

std::string pair_key(const std::string& local, const std::string& remote) { return local + " " + remote; }

}  // namespace

unsigned s2s_home_of(const std::string& remote, unsigned shards) noexcept {
  return home_shard("xmpp-s2s:" + remote, shards);
}

s2s_links::s2s_links(server& owner, shard& home) : owner_(owner), home_(home) {}

s2s_links::link& s2s_links::open(const std::string& local, const std::string& remote) {
  link& l = links_[pair_key(local, remote)];
  if (l.conn || l.connecting) return l;
  l.connecting = true;
  start_s2s_out(owner_, home_, local, remote);
  return l;
}

void s2s_links::send(const std::string& local, const std::string& remote, const stanza_ptr& stanza) {
  auto bounce = [&](std::string_view condition, std::string_view text) {
    const auto sender = jid::parse(stanza->attr("from"));
    if (!sender) return;
    if (auto error = error_reply(*stanza, "cancel", condition, text)) owner_.route(*sender, std::move(error));
  };
  auto it = links_.find(pair_key(local, remote));
  if (it != links_.end() && it->second.ready && it->second.conn) {
    it->second.conn->send(*stanza);
    home_.metrics().add(owner_.metrics().s2s_stanzas_out);
    return;
  }
  if (it != links_.end() && !it->second.conn && !it->second.connecting &&
      std::chrono::steady_clock::now() < it->second.retry_after)
    return bounce("remote-server-not-found", it->second.last_error);
  if (it != links_.end() && it->second.queue.size() >= max_queued)
    return bounce("resource-constraint", "too many stanzas wait for that server");
  link& l = open(local, remote);
  l.queue.push_back(stanza);
}

void s2s_links::ask_verify(const std::string& local, const std::string& remote, const std::string& id,
                           const std::string& key, unsigned shard, std::uint64_t stream) {
  const std::string waiting = pair_key(local, remote) + " " + id;
  if (waiting_.size() >= max_queued && !waiting_.count(waiting)) {
    owner_.s2s_verdict(shard, stream, local, remote, false);
    return;
  }
  waiting_[waiting] = {shard, stream};
  link& l = open(local, remote);
  if (l.conn) l.conn->ask_verify(id, key);
  else l.verifies.emplace_back(id, key);
}

void s2s_links::connected(const std::string& local, const std::string& remote, s2s_outgoing& c) {
  link& l = links_[pair_key(local, remote)];
  l.conn = &c;
  for (const auto& [id, key] : l.verifies) c.ask_verify(id, key);
  l.verifies.clear();
}

void s2s_links::ready(const std::string& local, const std::string& remote) {
  auto it = links_.find(pair_key(local, remote));
  if (it == links_.end() || !it->second.conn) return;
  link& l = it->second;
  l.ready = true;
  l.connecting = false;
  l.last_error.clear();
  home_.metrics().add(owner_.metrics().s2s_links);
  log::info("xmpp federation: {} -> {} is up ({} stanza(s) waiting)", local, remote, l.queue.size());
  home_.metrics().add(owner_.metrics().s2s_stanzas_out, l.queue.size());
  for (auto& stanza : std::exchange(l.queue, {})) l.conn->send(*stanza);
}

void s2s_links::verify_answer(const std::string& local, const std::string& remote, const std::string& id,
                              bool valid) {
  answer_waiting(local, remote, id, valid);
}

void s2s_links::answer_waiting(const std::string& local, const std::string& remote, const std::string& id,
                               bool valid) {
  auto it = waiting_.find(pair_key(local, remote) + " " + id);
  if (it == waiting_.end()) return;
  const auto to = it->second;
  waiting_.erase(it);
  owner_.s2s_verdict(to.shard, to.stream, local, remote, valid);
}

void s2s_links::disconnected(const std::string& local, const std::string& remote, const std::string& reason,
                             bool timed_out) {
  auto it = links_.find(pair_key(local, remote));
  if (it == links_.end()) return;
  link& l = it->second;
  const bool was_ready = l.ready;
  if (was_ready) home_.metrics().sub(owner_.metrics().s2s_links, 1);
  l.conn = nullptr;
  l.ready = false;
  l.connecting = false;
  // Questions nobody will answer now: the streams that asked are told no.
  const std::string prefix = pair_key(local, remote) + " ";
  for (auto w = waiting_.lower_bound(prefix); w != waiting_.end() && w->first.starts_with(prefix);) {
    owner_.s2s_verdict(w->second.shard, w->second.stream, local, remote, false);
    w = waiting_.erase(w);
  }
  l.verifies.clear();
  if (was_ready) {
    log::info("xmpp federation: {} -> {} closed ({})", local, remote, reason);
    // What came meanwhile goes on a new connection.
    if (!l.queue.empty()) open(local, remote);
    else links_.erase(it);
    return;
  }
  home_.metrics().add(owner_.metrics().s2s_failures);
  log::throttled(log::level::warn, "xmpp s2s failure", "xmpp federation: {} -> {} failed: {}", local, remote, reason);
  const auto now = std::chrono::steady_clock::now();
  l.last_error = reason;
  l.retry_after = now + retry_delay;
  // Failures older than their back-off are forgotten: the map holds only what is recent.
  std::erase_if(links_, [&](const auto& entry) {
    const link& other = entry.second;
    return &other != &l && !other.conn && !other.connecting && other.queue.empty() && now >= other.retry_after;
  });
  for (auto& stanza : std::exchange(l.queue, {})) {
    const auto sender = jid::parse(stanza->attr("from"));
    if (!sender) continue;
    if (auto error = error_reply(*stanza, timed_out ? "wait" : "cancel",
                                 timed_out ? "remote-server-timeout" : "remote-server-not-found", reason))
      owner_.route(*sender, std::move(error));
  }
}

void s2s_links::verdict(std::uint64_t stream, const std::string& local, const std::string& remote, bool valid) {
  if (auto it = incoming_.find(stream); it != incoming_.end()) it->second->verified(local, remote, valid);
}

std::vector<s2s_link_summary> s2s_links::links() const {
  std::vector<s2s_link_summary> out;
  for (const auto& [key, l] : links_) {
    s2s_link_summary s;
    const auto space = key.find(' ');
    s.local = key.substr(0, space);
    s.remote = key.substr(space + 1);
    s.ready = l.ready;
    s.connecting = l.connecting;
    s.queued = l.queue.size();
    s.last_error = l.last_error;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace junction::xmpp
