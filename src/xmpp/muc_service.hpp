#pragma once
// The multi-user chat service (XEP-0045) at conference.<domain> (xmpp.muc_subdomain), one part
// per shard: each room lives on the shard its JID hashes to (muc_home_of), and what it sends goes
// out through the server's routing like any stanza. Persistent rooms (their configuration and
// affiliations) are kept in the user store and read back at start.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "xmpp/muc_room.hpp"
#include "xmpp/router.hpp"

namespace junction {
class shard;
}

namespace junction::xmpp {

class server;

unsigned muc_home_of(const jid& room, unsigned shards) noexcept;

// What the service says about a room in its disco#items.
struct muc_listing {
  std::string jid, name;
};

class muc_service {
 public:
  muc_service(server& owner, shard& home);

  // On the room's home shard: a stanza for a room or one of its occupants.
  void room_stanza(const jid& to, const stanza_ptr& stanza);
  // The rooms homed here that are listed (public, not locked).
  std::vector<muc_listing> listed(const std::string& service) const;
  // The persistent rooms read back at start: those homed here are made again.
  void adopt(std::vector<users::stored_room>& rooms);
  std::size_t rooms() const noexcept { return rooms_.size(); }

 private:
  void send(muc_room::out& out);
  void save(const muc_room& room);

  server& owner_;
  shard& home_;
  std::unordered_map<std::string, std::unique_ptr<muc_room>> rooms_;  // by bare JID
};

}  // namespace junction::xmpp
