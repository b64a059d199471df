// A room's iqs (XEP-0045 §8-10): moderation (roles), administration (affiliations), the
// owner's configuration form and destruction, service discovery of the room, self-ping.
#include <charconv>

#include "xmpp/muc_room.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {
namespace {

constexpr std::string_view muc_ns = "http://jabber.org/protocol/muc";
constexpr std::string_view admin_ns = "http://jabber.org/protocol/muc#admin";
constexpr std::string_view owner_ns = "http://jabber.org/protocol/muc#owner";
constexpr std::string_view data_ns = "jabber:x:data";

std::shared_ptr<xml::element> result_of(const xml::element& iq, const jid& room, const jid& to) {
  auto r = std::make_shared<xml::element>(std::string(ns::client), "iq");
  r->set("type", "result").set("id", iq.attr("id")).set("from", iq.has("to") ? iq.attr("to") : room.str());
  r->set("to", to.str());
  return r;
}

bool truthy(std::string_view v) { return v == "1" || v == "true"; }

}  // namespace

muc_room::out muc_room::iq(const jid& from, const xml::element& iq) {
  out o;
  const std::string_view type = iq.attr("type");
  if (type != "get" && type != "set") return o;
  const xml::element* query = nullptr;
  for (const auto& c : iq.children())
    if (!c.is_text()) query = &c;
  const auto to = jid::parse(iq.attr("to"));
  if (!query || !to) {
    o.push_back(error(iq, from, "modify", "bad-request"));
    return o;
  }
  if (destroyed_) {
    o.push_back(error(iq, from, "cancel", "gone"));
    return o;
  }
  if (query->is(ns::ping, "ping") && type == "get") {
    // Self-ping (XEP-0410): "am I still in?"
    occupant* me = by_real(from);
    if (to->is_bare() || (me && me->nick == to->resource())) o.push_back(result_of(iq, address_, from));
    else o.push_back(error(iq, from, "modify", "not-acceptable"));
    return o;
  }
  if (!to->is_bare()) {
    // An iq to an occupant is not passed on (its real JID is not the sender's to know).
    o.push_back(error(iq, from, "cancel", "service-unavailable"));
    return o;
  }
  if (query->ns() == admin_ns) return admin(from, iq, *query);
  if (query->ns() == owner_ns) return owner(from, iq, *query);
  if (query->ns() == ns::disco_info || query->ns() == ns::disco_items) return disco(iq, *query);
  o.push_back(error(iq, from, "cancel", "service-unavailable"));
  return o;
}

muc_room::out muc_room::disco(const xml::element& iq, const xml::element& query) const {
  out o;
  const auto from = jid::parse(iq.attr("from"));
  if (!from) return o;
  auto r = result_of(iq, address_, *from);
  if (query.ns() == ns::disco_items) {
    r->add(std::string(ns::disco_items), "query");  // occupants are not listed (§6.5)
    o.push_back(std::move(r));
    return o;
  }
  auto& q = r->add(std::string(ns::disco_info), "query");
  q.add(std::string(ns::disco_info), "identity")
      .set("category", "conference")
      .set("type", "text")
      .set("name", config_.name.empty() ? address_.local() : config_.name);
  std::vector<std::string_view> features{muc_ns, ns::disco_info, ns::ping, "urn:xmpp:sid:0"};
  features.push_back(config_.persistent ? "muc_persistent" : "muc_temporary");
  features.push_back(config_.public_room ? "muc_public" : "muc_hidden");
  features.push_back(config_.members_only ? "muc_membersonly" : "muc_open");
  features.push_back(config_.moderated ? "muc_moderated" : "muc_unmoderated");
  features.push_back(config_.non_anonymous ? "muc_nonanonymous" : "muc_semianonymous");
  features.push_back(config_.password.empty() ? "muc_unsecured" : "muc_passwordprotected");
  if (archiving_) features.push_back(ns::mam);
  for (auto f : features) q.add(std::string(ns::disco_info), "feature").set("var", f);
  o.push_back(std::move(r));
  return o;
}

muc_room::out muc_room::admin(const jid& from, const xml::element& iq, const xml::element& query) {
  out o;
  occupant* me = by_real(from);
  const muc_affiliation my_affiliation = affiliation_of(from);
  const muc_role my_role = me ? me->role : muc_role::none;
  std::vector<const xml::element*> items;
  for (const auto& c : query.children())
    if (c.is(admin_ns, "item")) items.push_back(&c);
  if (items.empty()) {
    o.push_back(error(iq, from, "modify", "bad-request"));
    return o;
  }
  if (iq.attr("type") == "get") {
    // The list of one affiliation or role (§9.5, §8.5).
    const auto a = affiliation_from(items[0]->attr("affiliation"));
    const auto r = role_from(items[0]->attr("role"));
    if ((a && my_affiliation < muc_affiliation::admin) || (r && my_role != muc_role::moderator) || (!a && !r)) {
      o.push_back(error(iq, from, "auth", "forbidden"));
      return o;
    }
    auto reply = result_of(iq, address_, from);
    auto& q = reply->add(std::string(admin_ns), "query");
    if (a) {
      for (const auto& [who, aff] : affiliations_)
        if (aff == *a) q.add(std::string(admin_ns), "item").set("affiliation", to_string(aff)).set("jid", who);
    } else {
      for (const auto& [nick, occ] : occupants_)
        if (occ.role == *r)
          q.add(std::string(admin_ns), "item")
              .set("role", to_string(occ.role))
              .set("nick", nick)
              .set("jid", occ.real.str())
              .set("affiliation", to_string(affiliation_of(occ.real)));
    }
    o.push_back(std::move(reply));
    return o;
  }
  // Changes, all checked before any is made.
  out effects;
  for (const auto* item : items) {
    const std::string reason = item->child_text(admin_ns, "reason");
    if (item->has("role")) {
      const auto role = role_from(item->attr("role"));
      occupant* target = by_nick(item->attr("nick"));
      if (!role || !target) {
        o.push_back(error(iq, from, "modify", !role ? "bad-request" : "item-not-found"));
        return o;
      }
      const muc_affiliation target_affiliation = affiliation_of(target->real);
      // Moderators change voice and kick those below admin; admins and owners make moderators.
      const bool allowed =
          my_role == muc_role::moderator &&
          (*role == muc_role::moderator || target->role == muc_role::moderator
               ? my_affiliation >= muc_affiliation::admin && target_affiliation < muc_affiliation::admin
               : target_affiliation < muc_affiliation::admin || my_affiliation > target_affiliation);
      if (!allowed) {
        o.push_back(error(iq, from, "cancel", "not-allowed"));
        return o;
      }
      if (*role == muc_role::none) {
        leave(effects, target->nick, {307}, reason);
      } else {
        target->role = *role;
        broadcast_presence(effects, *target, {}, {});
      }
      continue;
    }
    const auto affiliation = affiliation_from(item->attr("affiliation"));
    const auto who = jid::parse(item->attr("jid"));
    if (!affiliation || !who) {
      o.push_back(error(iq, from, "modify", "bad-request"));
      return o;
    }
    const muc_affiliation current = affiliation_of(*who);
    // Admins handle outcasts and members; owners everything, but the last owner stays.
    const bool owners_only = *affiliation >= muc_affiliation::admin || current >= muc_affiliation::admin;
    if (my_affiliation < muc_affiliation::admin || (owners_only && my_affiliation != muc_affiliation::owner)) {
      o.push_back(error(iq, from, "auth", "forbidden"));
      return o;
    }
    if (current == muc_affiliation::owner && *affiliation != muc_affiliation::owner) {
      std::size_t owners = 0;
      for (const auto& [j, a] : affiliations_) owners += a == muc_affiliation::owner;
      if (owners <= 1) {
        o.push_back(error(iq, from, "cancel", "conflict"));
        return o;
      }
    }
    if (*affiliation == muc_affiliation::none) affiliations_.erase(who->bare_str());
    else affiliations_[who->bare_str()] = *affiliation;
    changed_ = true;
    // Its occupants: a ban removes them (301), losing membership of a members-only room too (321).
    std::vector<std::string> theirs;
    for (const auto& [nick, occ] : occupants_)
      if (occ.real.bare() == who->bare()) theirs.push_back(nick);
    for (const auto& nick : theirs) {
      if (*affiliation == muc_affiliation::outcast) leave(effects, nick, {301}, reason);
      else if (config_.members_only && *affiliation < muc_affiliation::member) leave(effects, nick, {321}, reason);
      else {
        occupant& occ = occupants_[nick];
        occ.role = default_role(*affiliation);
        broadcast_presence(effects, occ, {}, {});
      }
    }
  }
  o = std::move(effects);
  o.push_back(result_of(iq, address_, from));
  return o;
}

muc_room::out muc_room::owner(const jid& from, const xml::element& iq, const xml::element& query) {
  out o;
  if (affiliation_of(from) != muc_affiliation::owner) {
    o.push_back(error(iq, from, "auth", "forbidden"));
    return o;
  }
  if (iq.attr("type") == "get") {
    auto reply = result_of(iq, address_, from);
    reply->add(std::string(owner_ns), "query").add(*config_form());
    o.push_back(std::move(reply));
    return o;
  }
  if (const xml::element* d = query.child(owner_ns, "destroy")) {
    destroy(o, d->child_text(owner_ns, "reason"));
    o.push_back(result_of(iq, address_, from));
    return o;
  }
  const xml::element* form = query.child(data_ns, "x");
  if (!form) {
    o.push_back(error(iq, from, "modify", "bad-request"));
    return o;
  }
  if (form->attr("type") == "cancel") {
    // Cancelling the first configuration of a new room destroys it (§10.1.3).
    if (locked_) destroy(o, {});
    o.push_back(result_of(iq, address_, from));
    return o;
  }
  if (form->attr("type") != "submit") {
    o.push_back(error(iq, from, "modify", "bad-request"));
    return o;
  }
  apply_form(*form);
  locked_ = false;
  changed_ = true;
  o.push_back(result_of(iq, address_, from));
  return o;
}

void muc_room::apply_form(const xml::element& form) {
  for (const auto& field : form.children()) {
    if (!field.is(data_ns, "field")) continue;
    const std::string_view var = field.attr("var");
    const std::string value = field.child_text(data_ns, "value");
    auto size = [&](std::size_t& out, std::size_t max) {
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc{} && end == value.data() + value.size()) out = std::min(n, max);
    };
    if (var == "muc#roomconfig_roomname") config_.name = value;
    else if (var == "muc#roomconfig_roomdesc") config_.description = value;
    else if (var == "muc#roomconfig_persistentroom") config_.persistent = truthy(value);
    else if (var == "muc#roomconfig_publicroom") config_.public_room = truthy(value);
    else if (var == "muc#roomconfig_membersonly") config_.members_only = truthy(value);
    else if (var == "muc#roomconfig_moderatedroom") config_.moderated = truthy(value);
    else if (var == "muc#roomconfig_changesubject") config_.change_subject = truthy(value);
    else if (var == "muc#roomconfig_allowinvites") config_.allow_invites = truthy(value);
    else if (var == "muc#roomconfig_whois") config_.non_anonymous = value == "anyone";
    else if (var == "muc#roomconfig_roomsecret") config_.password = value;
    else if (var == "muc#roomconfig_passwordprotectedroom" && !truthy(value)) config_.password.clear();
    else if (var == "muc#roomconfig_historylength" || var == "muc#maxhistoryfetch") size(config_.max_history, 1000);
    else if (var == "muc#roomconfig_maxusers") size(config_.max_occupants, 10000);
  }
}

std::shared_ptr<xml::element> muc_room::config_form() const {
  auto x = std::make_shared<xml::element>(std::string(data_ns), "x");
  x->set("type", "form");
  x->add(std::string(data_ns), "title").add_text("Configuration of " + address_.str());
  auto field = [&](std::string_view var, std::string_view type, std::string_view label, std::string_view value) {
    auto& f = x->add(std::string(data_ns), "field");
    f.set("var", var).set("type", type).set("label", label);
    f.add(std::string(data_ns), "value").add_text(value);
    return &f;
  };
  auto boolean = [](bool b) { return b ? "1" : "0"; };
  field("FORM_TYPE", "hidden", "", "http://jabber.org/protocol/muc#roomconfig");
  field("muc#roomconfig_roomname", "text-single", "Name", config_.name);
  field("muc#roomconfig_roomdesc", "text-single", "Description", config_.description);
  field("muc#roomconfig_persistentroom", "boolean", "Persistent", boolean(config_.persistent));
  field("muc#roomconfig_publicroom", "boolean", "Listed", boolean(config_.public_room));
  field("muc#roomconfig_membersonly", "boolean", "Members only", boolean(config_.members_only));
  field("muc#roomconfig_moderatedroom", "boolean", "Moderated", boolean(config_.moderated));
  field("muc#roomconfig_changesubject", "boolean", "Participants may change the subject",
        boolean(config_.change_subject));
  field("muc#roomconfig_allowinvites", "boolean", "Members may invite", boolean(config_.allow_invites));
  auto* whois = field("muc#roomconfig_whois", "list-single", "Who sees real JIDs",
                      config_.non_anonymous ? "anyone" : "moderators");
  for (std::string_view v : {"moderators", "anyone"}) whois->add(std::string(data_ns), "option").add(std::string(data_ns), "value").add_text(v);
  field("muc#roomconfig_passwordprotectedroom", "boolean", "Password", boolean(!config_.password.empty()));
  field("muc#roomconfig_roomsecret", "text-private", "The password", config_.password);
  field("muc#roomconfig_historylength", "text-single", "History kept", std::to_string(config_.max_history));
  field("muc#roomconfig_maxusers", "text-single", "Most occupants", std::to_string(config_.max_occupants));
  return x;
}

}  // namespace junction::xmpp
