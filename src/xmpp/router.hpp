#pragma once
// Where stanzas go, across shards, with nothing shared: each shard keeps the streams connected
// to it, and the resources (bound full JIDs, their presence and priority) of the bare JIDs homed
// on it (home_of). A stanza for bob@example.com goes to bob's home shard, which picks the
// resources it is for and sends it to the shards their streams live on.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "im/offline_messages.hpp"
#include "xml/element.hpp"
#include "xmpp/jid.hpp"

namespace junction {
class shard;
}

namespace junction::xmpp {

class server;

// A connected client stream, as the router reaches it.
class stanza_sink {
 public:
  virtual ~stanza_sink() = default;
  virtual void deliver(const xml::element& stanza) = 0;
  // Ends the stream with a stream error (RFC 6120 §4.9.3 condition).
  virtual void kick(std::string_view condition, std::string_view text) = 0;
};

using stanza_ptr = std::shared_ptr<const xml::element>;

// The shard a bare JID is homed on. The key is the JID as a SIP address of record
// ("sip:alice@example.com"), so that one user's SIP and XMPP state share a shard.
unsigned home_of(const jid& address, unsigned shards) noexcept;

class shard_router {
 public:
  shard_router(server& owner, shard& home);

  // The streams of this shard, by id.
  void attach(std::uint64_t id, stanza_sink& sink);
  void detach(std::uint64_t id);
  void deliver_here(std::uint64_t id, const stanza_ptr& stanza);
  void kick_here(std::uint64_t id, std::string_view condition, std::string_view text);

  // On the home shard of `address`'s bare JID.
  void bind(const jid& address, unsigned shard, std::uint64_t stream);
  void unbind(const jid& address, std::uint64_t stream);
  // Presence without a recipient from `from` (a full JID): its availability and priority are
  // kept, and it goes to every available resource of the account (RFC 6121 §4.2.2, §4.4.2).
  void broadcast(const jid& from, std::uint64_t stream, const stanza_ptr& presence);
  // `stanza` (from and to set) for `to`, a JID of one of this server's domains.
  void route(const jid& to, const stanza_ptr& stanza);

  std::size_t resources() const noexcept { return resources_; }
  // Reads back the offline messages of the accounts homed here (at start).
  void load_offline();

 private:
  struct resource {
    std::string name;
    unsigned shard = 0;
    std::uint64_t stream = 0;
    int priority = 0;
    bool available = false;
  };
  void send_to(const resource& r, const stanza_ptr& stanza);
  // A message for an account with no available resource (RFC 6121 §8.5.2.2.1): kept until it has
  // one if the account exists, else an error back.
  void keep_offline(const jid& to, const stanza_ptr& stanza);
  void deliver_offline(const jid& bare, const resource& r);
  // An error back to the stanza's sender (RFC 6120 §8.3), never for an error.
  void bounce(const xml::element& stanza, std::string_view type, std::string_view condition);

  server& owner_;
  shard& home_;
  im::offline_messages offline_;
  std::unordered_map<std::uint64_t, stanza_sink*> streams_;
  std::unordered_map<std::string, std::vector<resource>> accounts_;  // bare JID -> its resources
  std::size_t resources_ = 0;
};

}  // namespace junction::xmpp
