#pragma once
// Where stanzas go, across shards, with nothing shared: each shard keeps the streams connected
// to it, and the resources (bound full JIDs, their presence and priority) of the bare JIDs homed
// on it (home_of). A stanza for bob@example.com goes to bob's home shard, which picks the
// resources it is for and sends it to the shards their streams live on.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "im/offline_messages.hpp"
#include "users/auth_throttle.hpp"
#include "users/user_store.hpp"
#include "xml/element.hpp"
#include "xmpp/c2s_stream.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/pep_account.hpp"

namespace junction {
class shard;
}

namespace junction::xmpp {

class server;

// What the admin API shows of a stream.
struct stream_summary {
  std::uint64_t id = 0;   // its connection's (says its shard)
  std::string address;    // the JID it logged in as, "" before
  bool bound = false;
  std::string peer;
  bool secure = false;
  std::chrono::system_clock::time_point since;
};

using stanza_ptr = std::shared_ptr<const xml::element>;

// A client stream's session while no connection carries it (XEP-0198 resumption), or on its way
// from the dropped stream to the one that resumes it.
struct resumable_session {
  jid address;             // the full JID it was bound to
  bool available = false;  // it had sent available presence
  std::vector<std::string> directed;  // full JIDs it sent available presence to directly
  unsigned shard = 0;      // where its stream was, and the stream's id
  std::uint64_t stream = 0;
  sm_state sm;
};

// A connected client stream, as the router reaches it.
class stanza_sink {
 public:
  virtual ~stanza_sink() = default;
  virtual stream_summary summary() const = 0;
  virtual void deliver(const stanza_ptr& stanza) = 0;
  // What the stream's resume request found (resumption.cpp): the session, or nothing.
  virtual void resume_with(std::shared_ptr<resumable_session> found) {}
  // The account's blocklist as it is now: the stream refuses to send to what is on it.
  virtual void blocklist(std::shared_ptr<const std::set<std::string>> blocked) {}
  // Ends the stream with a stream error (RFC 6120 §4.9.3 condition).
  virtual void kick(std::string_view condition, std::string_view text) = 0;
};


// The shard a bare JID is homed on. The key is the JID as a SIP address of record
// ("sip:alice@example.com"), so that one user's SIP and XMPP state share a shard.
unsigned home_of(const jid& address, unsigned shards) noexcept;

// The error a stanza gets back (RFC 6120 §8.3), from its recipient to its sender; nothing for an
// error or a stanza with no sender.
stanza_ptr error_reply(const xml::element& stanza, std::string_view type, std::string_view condition,
                       std::string_view text = {});

// subscribe, subscribed, unsubscribe, unsubscribed: presence that changes rosters (RFC 6121 §3).
bool is_subscription(std::string_view type) noexcept;

class shard_router {
 public:
  shard_router(server& owner, shard& home);
  ~shard_router();

  // The streams of this shard, by id.
  void attach(std::uint64_t id, stanza_sink& sink);
  void detach(std::uint64_t id);
  void deliver_here(std::uint64_t id, const stanza_ptr& stanza);
  void blocklist_here(std::uint64_t id, std::shared_ptr<const std::set<std::string>> blocked) {
    if (auto it = streams_.find(id); it != streams_.end()) it->second->blocklist(std::move(blocked));
  }
  bool kick_here(std::uint64_t id, std::string_view condition, std::string_view text);  // false: no such stream
  std::vector<stream_summary> streams() const;

  // On the home shard of `address`'s bare JID.
  void bind(const jid& address, unsigned shard, std::uint64_t stream);
  void unbind(const jid& address, std::uint64_t stream);
  // Presence without a recipient from `from` (a full JID): its availability and priority are
  // kept, and it goes to every available resource of the account (RFC 6121 §4.2.2, §4.4.2).
  void broadcast(const jid& from, std::uint64_t stream, const stanza_ptr& presence);
  // `stanza` (from and to set) for `to`, a JID of one of this server's domains.
  // `archived`: already in the recipient's archive (a message redelivered after its stream ended).
  void route(const jid& to, const stanza_ptr& stanza, bool archived = false);
  // On the home shard of `from`'s bare JID: an iq about the account itself (its roster), from
  // one of its resources, answered to it (roster_service.cpp).
  void account_iq(const jid& from, const stanza_ptr& iq);
  // On the home shard of `from`: a presence subscription stanza the account sends (RFC 6121 §3):
  // its roster changes, then it goes on to its recipient.
  void outbound_subscription(const jid& from, const jid& to, const stanza_ptr& presence);
  // Message carbons (XEP-0280), on the home shard of the account: a resource turns them on or
  // off; a message one resource sent is copied to the account's others that have them on.
  void set_carbons(const jid& address, std::uint64_t stream, bool on);
  void sent_carbons(const jid& from, const stanza_ptr& message);

  // XEP-0198 resumption (resumption.cpp). A dropped stream that may be resumed stays bound (its
  // resource available to others) under its stream id for sm_resume_seconds; what comes for it
  // waits. Then it ends as any stream does, and the messages it never got go to the account's
  // other resources or its offline store.
  void hibernate(std::shared_ptr<resumable_session> session);
  // On the hibernated session's shard: hands it to stream `to_stream` on `to_shard` if `account`
  // (a bare JID) is the one it belongs to; that stream hears either way (resume_here).
  void take_hibernated(const std::string& previd, const jid& account, unsigned to_shard, std::uint64_t to_stream);
  void resume_here(std::uint64_t stream, std::shared_ptr<resumable_session> found);
  // On the account's home shard: the resource's stream is now `stream` on `shard`.
  void rebind(const jid& address, std::uint64_t old_stream, unsigned shard, std::uint64_t stream);
  std::size_t hibernating() const noexcept { return hibernated_.size(); }
  // At shutdown, after the shards stopped and before their loops go: the hibernating sessions
  // (each holds a timer of this shard's loop) are dropped, told nobody.
  void drop_hibernated();
  // In-band registration: whether `source` may make another account now (counts it).
  bool may_register(const std::string& source);

  std::size_t resources() const noexcept { return resources_; }
  // Failed logins on this shard, per source address and per account (user@domain).
  users::auth_throttle& guessers() noexcept { return guessers_; }
  users::auth_throttle& guessed() noexcept { return guessed_; }
  // Reads back the offline messages of the accounts homed here (at start).
  void load_offline();
  // Message archives (XEP-0313, archive_service.cpp), on the account's home shard: a message the
  // account sent; a query or preferences iq from one of its resources; old messages dropped.
  void archive_sent(const jid& from, const xml::element& message);
  void archive_iq(const jid& from, const stanza_ptr& iq) { archive_iq(from, iq, from.bare()); }
  // A query of the archive of `archive` (the account, or a room: XEP-0313 §5), answered from it.
  void archive_iq(const jid& from, const stanza_ptr& iq, const jid& archive);
  // A message kept in `owner`'s archive (an account's or a room's) as `id`, exchanged `with`.
  void keep_archived(const std::string& owner, const std::string& id, const jid& with, const xml::element& message);
  // A room's archive, gone with the room.
  void forget_archive(const std::string& owner);
  std::string next_archive_id();
  void expire_archive();
  // Personal eventing (XEP-0163, pep_service.cpp), on the owner's home shard: a pubsub or disco
  // iq for the account `owner` from `from`; available or unavailable presence from `from` that
  // came to the account (who follows its nodes); the answer to a caps query it asked (true when
  // the iq was one).
  void pep_iq(const jid& from, const stanza_ptr& iq, const jid& owner);
  void pep_presence(const jid& account, const jid& from, const xml::element& presence);
  bool pep_caps_answer(const stanza_ptr& iq);

 private:
  struct resource {
    std::string name;
    unsigned shard = 0;
    std::uint64_t stream = 0;
    int priority = 0;
    bool available = false;
    stanza_ptr last_presence;  // what it last broadcast: answers probes
    bool carbons = false;      // XEP-0280: copies of the account's messages
    bool roster_requested = false;  // asked for the roster: gets its pushes (RFC 6121 §2.1.6)
    bool blocklist_requested = false;  // asked for the blocklist: gets its pushes (XEP-0191)
  };
  // Copies of `message` (XEP-0280 "received" or "sent") to the account's resources that want
  // them, but for those in `had_it`.
  void carbon_copies(const jid& account, const stanza_ptr& message, std::string_view direction,
                     const std::vector<const resource*>& had_it);
  // A message for `account` (homed here) as it is delivered: archived, with its stanza-id
  // (XEP-0359); the message itself when it is not archived.
  stanza_ptr archive_received(const jid& account, const stanza_ptr& message);
  void answer_archive_query(const jid& from, const stanza_ptr& iq, const jid& archive, const users::archive_page& page);
  void answer(const jid& to, const xml::element& iq, const jid& archive, xml::element reply);
  void roster_iq(const jid& from, const stanza_ptr& iq);
  // profile_service.cpp: a vCard of `owner` (homed here) got or set; the blocklist.
  void vcard_iq(const jid& from, const stanza_ptr& iq, const jid& owner);
  // private_storage.cpp: private XML storage (XEP-0049) of `from`'s account, its old-style
  // bookmarks kept in the account's XEP-0402 node.
  void private_iq(const jid& from, const stanza_ptr& iq);
  void legacy_bookmarks_iq(const jid& from, const stanza_ptr& iq, std::shared_ptr<const xml::element> kept);
  void blocking_iq(const jid& from, const stanza_ptr& iq);
  // An account's roster, as kept on its home shard while it has resources (roster_service.cpp).
  struct roster_state {
    bool loaded = false;
    std::int64_t version = 0;
    std::map<std::string, users::roster_item> items;  // by contact
    std::set<std::string> blocked;                    // XEP-0191
    std::vector<std::function<void(roster_state&)>> waiting;  // until loaded
  };
  void with_roster(const jid& account, std::function<void(roster_state&)> then);
  void keep_item(const jid& account, roster_state& roster, const users::roster_item& item, bool push);
  void push_item(const jid& account, const roster_state& roster, const users::roster_item& item, bool removed);
  // Presence subscription stanzas and probes for an account homed here, from `from`.
  void inbound_subscription(const jid& to, const stanza_ptr& presence);
  void handle_inbound_subscription(const jid& account, const jid& contact, const stanza_ptr& presence,
                                   roster_state& roster);
  void forget_roster_if_idle(const std::string& account);
  void answer_probe(const jid& to, const jid& from);
  // A resource became available: probes to the contacts it sees, subscription requests waiting.
  void after_initial_presence(const jid& account, const resource& r);
  void presence_to_subscribers(const jid& account, const stanza_ptr& presence);
  void send_to(const resource& r, const stanza_ptr& stanza);
  // A message for an account with no available resource (RFC 6121 §8.5.2.2.1): kept until it has
  // one if the account exists, else an error back.
  void keep_offline(const jid& to, const stanza_ptr& stanza, bool archived);
  void deliver_offline(const jid& bare, const resource& r);
  // An error back to the stanza's sender (RFC 6120 §8.3), never for an error.
  void bounce(const xml::element& stanza, std::string_view type, std::string_view condition);

  server& owner_;
  shard& home_;
  im::offline_messages offline_;
  users::auth_throttle guessers_, guessed_;
  std::unordered_map<std::uint64_t, stanza_sink*> streams_;
  std::unordered_map<std::string, std::vector<resource>> accounts_;  // bare JID -> its resources
  std::unordered_map<std::string, roster_state> rosters_;           // bare JID -> its roster
  std::size_t resources_ = 0;
  std::uint64_t archived_ = 0;
  struct pep_state {
    bool loaded = false;
    unsigned busy = 0;  // requests holding it while they read the roster
    pep_account service;
    std::vector<std::function<void(pep_state&)>> waiting;  // until loaded
  };
  void with_pep(const jid& account, std::function<void(pep_state&)> then);
  // The account's eventing state and its roster both at hand (who may read what).
  void with_pep_and_roster(const jid& account, std::function<void(pep_state&, roster_state&)> then);
  void forget_pep_if_idle(const std::string& account);
  pep_relation relation_of(const roster_state& roster, const jid& owner, const jid& who) const;
  void keep_pep_changes(const jid& account, const pep_state& state, const std::vector<pep_change>& changes);
  void pep_notify(const jid& account, const pep_state& state, const roster_state& roster,
                  const std::vector<pep_change>& changes);
  void pep_send_last(const jid& account, const jid& to, std::shared_ptr<const std::set<std::string>> interests);
  void send_pep_event(const jid& account, const jid& to, const xml::element& event);
  std::unordered_map<std::string, pep_state> peps_;  // bare JID -> its nodes, while needed
  // bare JID -> the full JIDs whose presence came to it -> their caps version
  std::unordered_map<std::string, std::map<std::string, std::string>> pep_recipients_;
  // caps version -> the nodes its clients want (+notify); this shard's knowledge
  std::unordered_map<std::string, std::shared_ptr<const std::set<std::string>>> caps_interests_;
  struct caps_query {
    std::string ver, asked;  // the version, the full JID asked
    bool hashed = false;     // a sha-1 version, checkable
    std::chrono::steady_clock::time_point since;
    std::vector<std::pair<std::string, std::string>> waiting;  // account, recipient
  };
  std::unordered_map<std::string, caps_query> caps_queries_;  // by iq id
  std::uint64_t caps_asked_ = 0;
  struct hibernation;  // resumption.cpp
  void end_hibernation(std::uint64_t stream);
  void finish(const resumable_session& session);
  std::unordered_map<std::uint64_t, std::shared_ptr<hibernation>> hibernated_;  // by stream id
  std::unordered_map<std::string, std::uint64_t> hibernated_ids_;               // SM id -> stream id
  struct forward {
    unsigned shard = 0;
    std::uint64_t stream = 0;
    std::chrono::steady_clock::time_point since;
  };
  std::unordered_map<std::uint64_t, forward> forwards_;
  std::unordered_map<std::string, std::pair<std::chrono::steady_clock::time_point, unsigned>> registrations_;  // a resumed stream's old id -> its new one
};

}  // namespace junction::xmpp
