// Stream resumption (XEP-0198 §5) on the router's side: a stream whose connection dropped
// "hibernates" on its shard (still bound, its stanzas queued) until a new connection of the same
// account resumes it, on whatever shard that connection landed, or until the time runs out.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

constexpr auto forward_for = std::chrono::minutes(5);  // a resumed stream's old id follows it this long

// Messages a session never got that another resource (or the offline store) should: not errors,
// groupchat or headlines, not copies (carbons) or archive results.
bool worth_redelivering(const xml::element& s) {
  if (s.name() != "message") return false;
  const std::string_view type = s.attr("type");
  if (type == "error" || type == "groupchat" || type == "headline") return false;
  return s.child(ns::client, "body") && !s.child_in(ns::carbons) && !s.child_in(ns::mam);
}

}  // namespace

struct shard_router::hibernation final : stanza_sink {
  hibernation(shard_router& router, std::shared_ptr<resumable_session> s)
      : owner(router), session(std::move(s)), timer(router.home_.context()) {}

  stream_summary summary() const override {
    stream_summary out;
    out.id = session->stream;
    out.address = session->address.str();
    out.bound = true;
    out.peer = "(hibernating: awaiting resumption)";
    out.since = since;
    return out;
  }
  void deliver(const stanza_ptr& stanza) override {
    session->sm.unacked.push_back(stanza);
    if (session->sm.unacked.size() > owner.owner_.config().sm_max_unacked) {
      const std::uint64_t id = session->stream;
      boost::asio::post(owner.home_.context(), [r = &owner, id] { r->end_hibernation(id); });
    }
  }
  void kick(std::string_view, std::string_view) override {
    const std::uint64_t id = session->stream;
    boost::asio::post(owner.home_.context(), [r = &owner, id] { r->end_hibernation(id); });
  }

  shard_router& owner;
  std::shared_ptr<resumable_session> session;
  boost::asio::steady_timer timer;
  std::chrono::system_clock::time_point since = std::chrono::system_clock::now();
};

shard_router::~shard_router() = default;

void shard_router::hibernate(std::shared_ptr<resumable_session> session) {
  const std::uint64_t id = session->stream;
  auto h = std::make_shared<hibernation>(*this, session);
  h->timer.expires_after(owner_.config().sm_resume_timeout);
  h->timer.async_wait([this, id](boost::system::error_code ec) {
    if (!ec) end_hibernation(id);
  });
  hibernated_ids_[session->sm.id] = id;
  streams_[id] = h.get();
  hibernated_[id] = std::move(h);
  home_.metrics().add(owner_.metrics().hibernating);
  log::info("xmpp {}: connection lost; the stream may be resumed for {} s", session->address.str(),
            std::chrono::duration_cast<std::chrono::seconds>(owner_.config().sm_resume_timeout).count());
}

void shard_router::end_hibernation(std::uint64_t stream) {
  auto it = hibernated_.find(stream);
  if (it == hibernated_.end()) return;
  auto session = it->second->session;
  hibernated_ids_.erase(session->sm.id);
  streams_.erase(stream);
  hibernated_.erase(it);
  home_.metrics().sub(owner_.metrics().hibernating, 1);
  home_.metrics().sub(owner_.metrics().sessions, 1);
  finish(*session);
}

void shard_router::finish(const resumable_session& session) {
  owner_.end_session(session.address, session.stream, session.available, session.directed);
  for (const auto& stanza : session.sm.unacked)
    if (worth_redelivering(*stanza)) owner_.redeliver(session.address.bare(), stanza);
}

void shard_router::take_hibernated(const std::string& previd, const jid& account, unsigned to_shard,
                                   std::uint64_t to_stream) {
  std::shared_ptr<resumable_session> found;
  auto id = hibernated_ids_.find(previd);
  if (id != hibernated_ids_.end()) {
    auto it = hibernated_.find(id->second);
    if (it != hibernated_.end() && it->second->session->address.bare() == account) {
      found = it->second->session;
      hibernated_ids_.erase(id);
      streams_.erase(found->stream);
      hibernated_.erase(it);
      home_.metrics().sub(owner_.metrics().hibernating, 1);
      home_.metrics().sub(owner_.metrics().sessions, 1);  // counted again where it resumes
      const auto now = std::chrono::steady_clock::now();
      std::erase_if(forwards_, [&](const auto& f) { return now - f.second.since > forward_for; });
      forwards_[found->stream] = {to_shard, to_stream, now};
    }
  }
  owner_.resume_on(to_shard, to_stream, std::move(found));
}

void shard_router::resume_here(std::uint64_t stream, std::shared_ptr<resumable_session> found) {
  if (auto it = streams_.find(stream); it != streams_.end()) return it->second->resume_with(std::move(found));
  // The new stream went meanwhile: the session ends.
  if (found) finish(*found);
}

void shard_router::rebind(const jid& address, std::uint64_t old_stream, unsigned shard, std::uint64_t stream) {
  auto it = accounts_.find(address.bare_str());
  if (it != accounts_.end())
    for (auto& r : it->second)
      if (r.name == address.resource() && r.stream == old_stream) {
        r.shard = shard;
        r.stream = stream;
        return;
      }
  // Another login took the resource meanwhile (RFC 6120 §7.7.2.2: the newer one wins).
  owner_.kick(shard, stream, "conflict", "the same resource logged in again");
}

void shard_router::drop_hibernated() {
  forwards_.clear();
  hibernated_ids_.clear();
  hibernated_.clear();
}

}  // namespace junction::xmpp
