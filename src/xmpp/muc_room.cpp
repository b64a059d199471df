#include "xmpp/muc_room.hpp"

#include <algorithm>
#include <charconv>

#include "core/utc_time.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {
namespace {

constexpr std::string_view muc_ns = "http://jabber.org/protocol/muc";
constexpr std::string_view muc_user_ns = "http://jabber.org/protocol/muc#user";
constexpr std::string_view conference_ns = "jabber:x:conference";

std::shared_ptr<xml::element> stanza(std::string_view name, const jid& from, const jid& to) {
  auto s = std::make_shared<xml::element>(std::string(ns::client), std::string(name));
  s->set("from", from.str());
  s->set("to", to.str());
  return s;
}

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

std::string_view to_string(muc_affiliation a) noexcept {
  switch (a) {
    case muc_affiliation::outcast: return "outcast";
    case muc_affiliation::none: return "none";
    case muc_affiliation::member: return "member";
    case muc_affiliation::admin: return "admin";
    case muc_affiliation::owner: return "owner";
  }
  return "none";
}

std::string_view to_string(muc_role r) noexcept {
  switch (r) {
    case muc_role::none: return "none";
    case muc_role::visitor: return "visitor";
    case muc_role::participant: return "participant";
    case muc_role::moderator: return "moderator";
  }
  return "none";
}

std::optional<muc_affiliation> affiliation_from(std::string_view s) noexcept {
  for (auto a : {muc_affiliation::outcast, muc_affiliation::none, muc_affiliation::member, muc_affiliation::admin,
                 muc_affiliation::owner})
    if (to_string(a) == s) return a;
  return std::nullopt;
}

std::optional<muc_role> role_from(std::string_view s) noexcept {
  for (auto r : {muc_role::none, muc_role::visitor, muc_role::participant, muc_role::moderator})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

muc_room::muc_room(jid address, const jid& creator, muc_config defaults)
    : address_(std::move(address)), config_(std::move(defaults)), locked_(true) {
  affiliations_[creator.bare_str()] = muc_affiliation::owner;
}

muc_room::muc_room(jid address, muc_config config, std::map<std::string, muc_affiliation> affiliations)
    : address_(std::move(address)), config_(std::move(config)), affiliations_(std::move(affiliations)) {}

muc_affiliation muc_room::affiliation_of(const jid& real) const {
  auto it = affiliations_.find(real.bare_str());
  return it == affiliations_.end() ? muc_affiliation::none : it->second;
}

muc_room::occupant* muc_room::by_real(const jid& real) {
  for (auto& [nick, o] : occupants_)
    if (o.real == real) return &o;
  return nullptr;
}

muc_room::occupant* muc_room::by_nick(std::string_view nick) {
  auto it = occupants_.find(std::string(nick));
  return it == occupants_.end() ? nullptr : &it->second;
}

muc_role muc_room::default_role(muc_affiliation a) const {
  if (a == muc_affiliation::owner || a == muc_affiliation::admin) return muc_role::moderator;
  if (config_.moderated && a == muc_affiliation::none) return muc_role::visitor;
  return muc_role::participant;
}

std::shared_ptr<xml::element> muc_room::error(const xml::element& s, const jid& to, std::string_view type,
                                              std::string_view condition, std::string_view from_nick) const {
  auto e = std::make_shared<xml::element>(s);
  e->set("type", "error");
  e->set("from", from_nick.empty() ? (s.has("to") ? std::string(s.attr("to")) : address_.str())
                                   : address_.with_resource(from_nick).str());
  e->set("to", to.str());
  auto& err = e->add(std::string(ns::client), "error");
  err.set("type", type);
  err.add(std::string(ns::stanza_errors), std::string(condition));
  return e;
}

std::shared_ptr<xml::element> muc_room::occupant_presence(const occupant& who, const occupant& receiver,
                                                          std::string_view type, const std::vector<int>& codes,
                                                          std::string_view new_nick) const {
  auto p = who.presence && type.empty() ? std::make_shared<xml::element>(*who.presence)
                                        : std::make_shared<xml::element>(std::string(ns::client), "presence");
  // What the occupant sent, without its own MUC element; the room's goes in its place.
  p->remove_children(muc_ns, "x");
  p->remove_children(muc_user_ns, "x");
  p->erase("id");
  if (type.empty()) p->erase("type");
  else p->set("type", type);
  p->set("from", address_.with_resource(who.nick).str());
  p->set("to", receiver.real.str());
  auto& x = p->add(std::string(muc_user_ns), "x");
  auto& item = x.add(std::string(muc_user_ns), "item");
  item.set("affiliation", to_string(affiliation_of(who.real)));
  item.set("role", type == "unavailable" ? std::string_view("none") : to_string(who.role));
  if (config_.non_anonymous || receiver.role == muc_role::moderator) item.set("jid", who.real.str());
  if (!new_nick.empty()) item.set("nick", new_nick);
  for (int code : codes) x.add(std::string(muc_user_ns), "status").set("code", std::to_string(code));
  if (&who == &receiver) x.add(std::string(muc_user_ns), "status").set("code", "110");
  return p;
}

void muc_room::broadcast_presence(out& o, const occupant& who, std::string_view type, std::vector<int> codes,
                                  std::string_view new_nick) const {
  for (const auto& [nick, receiver] : occupants_) {
    std::vector<int> c = codes;
    if (&receiver == &who && config_.non_anonymous) c.push_back(100);
    o.push_back(occupant_presence(who, receiver, type, c, new_nick));
  }
}

muc_room::out muc_room::presence(const jid& from, const xml::element& p, clock::time_point now) {
  out o;
  const std::string_view type = p.attr("type");
  const auto to = jid::parse(p.attr("to"));
  if (type == "error" || !to) return o;
  if (destroyed_) {
    if (type.empty()) o.push_back(error(p, from, "cancel", "gone"));
    return o;
  }
  occupant* me = by_real(from);
  const std::string& nick = to->resource();
  if (type == "unavailable") {
    if (me) leave(o, me->nick, {});
    return o;
  }
  if (!type.empty()) return o;  // probes and subscriptions mean nothing to a room
  if (nick.empty()) {
    o.push_back(error(p, from, "modify", "jid-malformed"));
    return o;
  }
  if (!me) {
    join(o, from, nick, p, now);
    return o;
  }
  if (me->nick != nick) {
    // A new nick (§7.6): unavailable with 303 under the old, then available under the new.
    if (occupants_.count(nick)) {
      o.push_back(error(p, from, "cancel", "conflict", nick));
      return o;
    }
    broadcast_presence(o, *me, "unavailable", {303}, nick);
    occupant moved = std::move(*me);
    occupants_.erase(moved.nick);
    moved.nick = nick;
    moved.presence = std::make_shared<xml::element>(p);
    auto& placed = occupants_[nick] = std::move(moved);
    broadcast_presence(o, placed, {}, {});
    return o;
  }
  // A change of status: everyone sees it.
  me->presence = std::make_shared<xml::element>(p);
  broadcast_presence(o, *me, {}, {});
  return o;
}

void muc_room::join(out& o, const jid& from, std::string_view nick, const xml::element& p, clock::time_point now) {
  const muc_affiliation a = affiliation_of(from);
  const xml::element* x = p.child(muc_ns, "x");
  auto refuse = [&](std::string_view type, std::string_view condition) {
    o.push_back(error(p, from, type, condition, nick));
  };
  if (a == muc_affiliation::outcast) return refuse("auth", "forbidden");
  if (locked_ && a != muc_affiliation::owner) return refuse("cancel", "item-not-found");
  if (occupants_.count(std::string(nick))) return refuse("cancel", "conflict");
  if (config_.members_only && a < muc_affiliation::member) return refuse("auth", "registration-required");
  if (!config_.password.empty() && a < muc_affiliation::owner &&
      (!x || x->child_text(muc_ns, "password") != config_.password))
    return refuse("auth", "not-authorized");
  if (occupants_.size() >= config_.max_occupants && a < muc_affiliation::admin)
    return refuse("wait", "service-unavailable");
  occupant fresh;
  fresh.nick = std::string(nick);
  fresh.real = from;
  fresh.role = default_role(a);
  fresh.presence = std::make_shared<xml::element>(p);
  auto& me = occupants_[fresh.nick] = std::move(fresh);
  // The others first (§7.2.3), then everyone hears of the newcomer (its own copy with 110, and
  // 201 if it just made the room), then the history, then the subject.
  for (const auto& [other_nick, other] : occupants_)
    if (&other != &me) o.push_back(occupant_presence(other, me, {}, {}));
  std::vector<int> codes;
  if (locked_ && occupants_.size() == 1) codes.push_back(201);
  for (const auto& [other_nick, receiver] : occupants_) {
    std::vector<int> c;
    if (&receiver == &me) {
      c = codes;
      if (config_.non_anonymous) c.push_back(100);
    }
    o.push_back(occupant_presence(me, receiver, {}, c));
  }
  send_history(o, me, x, now);
  auto subject = subject_ ? std::make_shared<xml::element>(*subject_) : stanza("message", address_, from);
  if (!subject_) {
    subject->set("type", "groupchat");
    subject->add(std::string(ns::client), "subject");
  }
  subject->set("to", from.str());
  o.push_back(std::move(subject));
}

void muc_room::send_history(out& o, const occupant& to, const xml::element* muc_x, clock::time_point now) const {
  std::size_t max = config_.max_history;
  std::optional<clock::time_point> after;
  if (const xml::element* h = muc_x ? muc_x->child(muc_ns, "history") : nullptr) {
    if (auto n = number(h->attr("maxstanzas")); n && *n >= 0) max = std::min(max, static_cast<std::size_t>(*n));
    if (auto s = number(h->attr("seconds")); s && *s >= 0) after = now - std::chrono::seconds(*s);
  }
  std::size_t first = history_.size() > max ? history_.size() - max : 0;
  for (std::size_t i = first; i < history_.size(); ++i) {
    if (after && history_[i].when < *after) continue;
    auto m = std::make_shared<xml::element>(*history_[i].message);
    m->set("to", to.real.str());
    m->add("urn:xmpp:delay", "delay").set("from", address_.str()).set("stamp", format_utc(history_[i].when, iso8601_utc));
    o.push_back(std::move(m));
  }
}

void muc_room::leave(out& o, const std::string& nick, std::vector<int> codes, std::string_view reason) {
  auto it = occupants_.find(nick);
  if (it == occupants_.end()) return;
  for (const auto& [n, receiver] : occupants_) {
    auto p = occupant_presence(it->second, receiver, "unavailable", codes);
    if (!reason.empty()) {
      if (auto* x = p->child(muc_user_ns, "x"))
        if (auto* item = x->child(muc_user_ns, "item")) item->add(std::string(muc_user_ns), "reason").add_text(reason);
    }
    o.push_back(std::move(p));
  }
  occupants_.erase(it);
}

muc_room::out muc_room::message(const jid& from, const xml::element& m, clock::time_point now,
                               std::string_view archive_id) {
  out o;
  const std::string_view type = m.attr("type");
  if (type == "error") return o;
  const auto to = jid::parse(m.attr("to"));
  occupant* me = by_real(from);
  if (const xml::element* x = m.child(muc_user_ns, "x"); x && to && to->is_bare()) {
    if (const xml::element* inv = x->child(muc_user_ns, "invite")) {
      invite(o, from, m, *inv);
      return o;
    }
  }
  if (!me) {
    o.push_back(error(m, from, "modify", "not-acceptable"));
    return o;
  }
  if (to && !to->is_bare()) {
    // A private message to one occupant (§7.5), from the sender's nick.
    occupant* target = by_nick(to->resource());
    if (!target || type == "groupchat") {
      o.push_back(error(m, from, "cancel", "item-not-found"));
      return o;
    }
    auto copy = std::make_shared<xml::element>(m);
    copy->set("from", address_.with_resource(me->nick).str());
    copy->set("to", target->real.str());
    copy->add(std::string(muc_user_ns), "x");
    o.push_back(std::move(copy));
    return o;
  }
  if (type != "groupchat") {
    o.push_back(error(m, from, "modify", "bad-request"));
    return o;
  }
  const bool subject = m.child(ns::client, "subject") && !m.child(ns::client, "body");
  if (me->role == muc_role::visitor || (subject && me->role != muc_role::moderator && !config_.change_subject)) {
    o.push_back(error(m, from, "auth", "forbidden"));
    return o;
  }
  auto sent = std::make_shared<xml::element>(m);
  sent->set("from", address_.with_resource(me->nick).str());
  sent->erase("to");
  std::erase_if(sent->children(), [&](const xml::element& c) { return c.is(ns::sid, "stanza-id") && c.attr("by") == address_.str(); });
  if (subject) subject_ = sent;
  else if (m.child(ns::client, "body")) {
    if (archiving_ && !archive_id.empty()) {
      sent->add(std::string(ns::sid), "stanza-id").set("id", archive_id).set("by", address_.str());
      archived_ = sent;
    }
    if (config_.max_history > 0) {
      history_.push_back({now, sent});
      while (history_.size() > config_.max_history) history_.pop_front();
    }
  }
  for (const auto& [nick, receiver] : occupants_) {
    auto copy = std::make_shared<xml::element>(*sent);
    copy->set("to", receiver.real.str());
    o.push_back(std::move(copy));
  }
  return o;
}

bool muc_room::may_read_archive(const jid& real) const {
  if (const auto it = std::find_if(occupants_.begin(), occupants_.end(),
                                   [&](const auto& o) { return o.second.real.bare() == real.bare(); });
      it != occupants_.end())
    return true;
  const muc_affiliation a = affiliation_of(real);
  if (a == muc_affiliation::outcast) return false;
  if (config_.members_only || !config_.password.empty()) return a >= muc_affiliation::member;
  return true;
}

// A mediated invitation (§7.8.2): the room passes it on, and in a members-only room an admin's
// (or, when the room allows it, a member's) invitee becomes a member.
void muc_room::invite(out& o, const jid& from, const xml::element& m, const xml::element& inv) {
  const auto invitee = jid::parse(inv.attr("to"));
  occupant* me = by_real(from);
  const muc_affiliation a = affiliation_of(from);
  if (!invitee || !me) {
    o.push_back(error(m, from, "modify", "bad-request"));
    return;
  }
  if (config_.members_only) {
    if (a < muc_affiliation::admin && !(config_.allow_invites && a >= muc_affiliation::member)) {
      o.push_back(error(m, from, "auth", "forbidden"));
      return;
    }
    if (affiliation_of(*invitee) < muc_affiliation::member) {
      affiliations_[invitee->bare_str()] = muc_affiliation::member;
      changed_ = true;
    }
  }
  auto out_msg = stanza("message", address_, *invitee);
  auto& x = out_msg->add(std::string(muc_user_ns), "x");
  auto& i = x.add(std::string(muc_user_ns), "invite");
  i.set("from", from.str());
  if (const auto* reason = inv.child(muc_user_ns, "reason")) i.add(*reason);
  if (!config_.password.empty()) x.add(std::string(muc_user_ns), "password").add_text(config_.password);
  out_msg->add(std::string(conference_ns), "x").set("jid", address_.str());
  o.push_back(std::move(out_msg));
}

void muc_room::destroy(out& o, std::string_view reason) {
  std::vector<std::string> nicks;
  for (const auto& [nick, occ] : occupants_) nicks.push_back(nick);
  for (const auto& nick : nicks) {
    auto it = occupants_.find(nick);
    auto p = stanza("presence", address_.with_resource(nick), it->second.real);
    p->set("type", "unavailable");
    auto& x = p->add(std::string(muc_user_ns), "x");
    x.add(std::string(muc_user_ns), "item").set("affiliation", "none").set("role", "none");
    auto& d = x.add(std::string(muc_user_ns), "destroy");
    if (!reason.empty()) d.add(std::string(muc_user_ns), "reason").add_text(reason);
    o.push_back(std::move(p));
  }
  occupants_.clear();
  destroyed_ = true;
  changed_ = true;
}

}  // namespace junction::xmpp
