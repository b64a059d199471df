#include "xmpp/muc_service.hpp"


#include "core/home_shard.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "users/user_directory.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {

unsigned muc_home_of(const jid& room, unsigned shards) noexcept {
  return home_shard("xmpp-muc:" + room.bare_str(), shards);
}

muc_service::muc_service(server& owner, shard& home) : owner_(owner), home_(home) {}

void muc_service::room_stanza(const jid& to, const stanza_ptr& stanza) {
  const auto from = jid::parse(stanza->attr("from"));
  if (!from || from->is_bare()) return;  // rooms answer resources, never bare accounts
  const std::string key = to.bare_str();
  auto it = rooms_.find(key);
  const std::string& kind = stanza->name();
  if (it == rooms_.end()) {
    // Entering a room that does not exist makes it, owned by whoever entered (§10.1.1); anything
    // else for it is an error.
    const bool entering = kind == "presence" && stanza->attr("type").empty() && !to.is_bare();
    if (!entering) {
      if (stanza->attr("type") != "error" && stanza->attr("type") != "unavailable")
        if (auto error = error_reply(*stanza, "cancel", "item-not-found")) owner_.route(*from, std::move(error));
      return;
    }
    if (!owner_.serves(from->domain()) && !owner_.config().muc_remote_creators) {
      if (auto error = error_reply(*stanza, "cancel", "not-allowed", "only local users make rooms here"))
        owner_.route(*from, std::move(error));
      return;
    }
    muc_config defaults;
    defaults.max_history = owner_.config().muc_history;
    it = rooms_.emplace(key, std::make_unique<muc_room>(to.bare(), from->bare(), defaults)).first;
    it->second->set_archiving(owner_.config().archive);
    home_.metrics().add(owner_.metrics().muc_rooms);
    // A new room: what an earlier room of that name (temporary, gone in a restart) kept is not its.
    owner_.router_here().forget_archive(key);
  }
  muc_room& room = *it->second;
  const auto now = std::chrono::system_clock::now();
  muc_room::out out;
  if (kind == "presence") {
    out = room.presence(*from, *stanza, now);
  } else if (kind == "message") {
    // Kept in the room's archive (XEP-0313 §5) unless the sender asks not (XEP-0334).
    const bool keep = owner_.config().archive && !stanza->child(ns::hints, "no-store") &&
                      !stanza->child(ns::hints, "no-permanent-store");
    const std::string id = keep ? owner_.router_here().next_archive_id() : std::string{};
    out = room.message(*from, *stanza, now, id);
    if (auto kept = room.take_archived()) {
      const auto nick = jid::parse(kept->attr("from"));
      owner_.router_here().keep_archived(key, id, nick ? *nick : to.bare(), *kept);
    }
  } else if (to.is_bare() && (stanza->child(ns::mam, "query") || stanza->child(ns::mam, "prefs")) &&
             (stanza->attr("type") == "get" || stanza->attr("type") == "set")) {
    if (!room.may_read_archive(*from)) {
      if (auto error = error_reply(*stanza, "auth", "forbidden", "only the room's members may read its archive"))
        owner_.route(*from, std::move(error));
      return;
    }
    return owner_.router_here().archive_iq(*from, stanza, room.address());
  } else {
    out = room.iq(*from, *stanza);
  }
  send(out);
  if (room.take_changed()) save(room);
  if (room.disposable()) {
    rooms_.erase(it);
    home_.metrics().sub(owner_.metrics().muc_rooms, 1);
    owner_.router_here().forget_archive(key);
  }
}

void muc_service::send(muc_room::out& out) {
  for (auto& s : out) {
    const auto to = jid::parse(s->attr("to"));
    if (to) owner_.route(*to, std::move(s));
  }
}

void muc_service::save(const muc_room& room) {
  const std::string name = room.address().bare_str();
  if (room.destroyed() || !room.config().persistent) {
    owner_.users().write("xmpp room, forgetting", [name](users::user_store& s) { s.drop_room(name); });
    return;
  }
  users::stored_room r{name, muc_config_text(room.config()), muc_affiliations_text(room.affiliations())};
  owner_.users().write("xmpp room, keeping", [r = std::move(r)](users::user_store& s) { s.put_room(r); });
}

std::vector<muc_listing> muc_service::listed(const std::string& service) const {
  std::vector<muc_listing> out;
  for (const auto& [key, room] : rooms_)
    if (room->address().domain() == service && room->config().public_room && !room->locked())
      out.push_back({key, room->config().name.empty() ? room->address().local() : room->config().name});
  return out;
}

void muc_service::adopt(std::vector<users::stored_room>& rooms) {
  const unsigned here = home_.index();
  for (auto& r : rooms) {
    const auto address = jid::parse(r.room);
    if (!address || muc_home_of(*address, owner_.rt().size()) != here || rooms_.count(r.room)) continue;
    auto& room = rooms_.emplace(r.room, std::make_unique<muc_room>(*address, muc_config_from(r.config),
                                                                    muc_affiliations_from(r.affiliations)))
                     .first->second;
    room->set_archiving(owner_.config().archive);
    home_.metrics().add(owner_.metrics().muc_rooms);
  }
}

}  // namespace junction::xmpp
