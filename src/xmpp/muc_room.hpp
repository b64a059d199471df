#pragma once
// One multi-user chat room (XEP-0045), sans-IO: stanzas for the room in, stanzas to send out
// (each with from and to set). It keeps the occupants (a nick each, with their real JID, role
// and affiliation), the affiliations, the configuration, the subject and the recent history.
// The service around it (muc_service.hpp) routes, persists and times nothing here.
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.hpp"
#include "xmpp/jid.hpp"

namespace junction::xmpp {

enum class muc_affiliation { outcast, none, member, admin, owner };
enum class muc_role { none, visitor, participant, moderator };
std::string_view to_string(muc_affiliation a) noexcept;
std::string_view to_string(muc_role r) noexcept;
std::optional<muc_affiliation> affiliation_from(std::string_view s) noexcept;
std::optional<muc_role> role_from(std::string_view s) noexcept;

struct muc_config {
  std::string name, description, password;
  bool persistent = false;
  bool public_room = true;      // listed in the service's disco#items
  bool members_only = false;
  bool moderated = false;       // visitors (no voice) cannot speak
  bool non_anonymous = false;   // everyone sees real JIDs (else only moderators do)
  bool change_subject = false;  // participants may change the subject (else moderators only)
  bool allow_invites = false;   // members may invite to a members-only room (else admins only)
  std::size_t max_history = 20;
  std::size_t max_occupants = 200;
  friend bool operator==(const muc_config&, const muc_config&) = default;
};

// A room's configuration and affiliations as the user store keeps them, and back.
std::string muc_config_text(const muc_config& c);
muc_config muc_config_from(std::string_view text);
std::string muc_affiliations_text(const std::map<std::string, muc_affiliation>& a);
std::map<std::string, muc_affiliation> muc_affiliations_from(std::string_view text);

class muc_room {
 public:
  using stanza_ptr = std::shared_ptr<const xml::element>;
  using out = std::vector<stanza_ptr>;
  using clock = std::chrono::system_clock;

  // A new room: `creator` (a bare JID) owns it; it is locked (no one else may enter) until the
  // owner configures it or accepts the default (XEP-0045 §10.1).
  muc_room(jid address, const jid& creator, muc_config defaults);
  // A persistent room read back: unlocked, empty.
  muc_room(jid address, muc_config config, std::map<std::string, muc_affiliation> affiliations);

  out presence(const jid& from, const xml::element& p, clock::time_point now);
  // `archive_id`: when the room archives (set_archiving) and this is a message to everyone
  // with a body, its id in the room's archive: the copies carry it as their stanza-id
  // (XEP-0359), and take_archived() gives the message to keep.
  out message(const jid& from, const xml::element& m, clock::time_point now, std::string_view archive_id = {});
  out iq(const jid& from, const xml::element& iq);

  // The room's archive (XEP-0313 §5): whether it keeps one (said in its disco#info), the last
  // message to keep (as broadcast, from room/nick, with its stanza-id), and who may read it:
  // an occupant, else anyone not banned from an open room without a password, else members.
  void set_archiving(bool on) noexcept { archiving_ = on; }
  std::shared_ptr<const xml::element> take_archived() noexcept { return std::move(archived_); }
  bool may_read_archive(const jid& real) const;

  const jid& address() const noexcept { return address_; }
  const muc_config& config() const noexcept { return config_; }
  const std::map<std::string, muc_affiliation>& affiliations() const noexcept { return affiliations_; }
  std::size_t occupants() const noexcept { return occupants_.size(); }
  bool locked() const noexcept { return locked_; }
  bool destroyed() const noexcept { return destroyed_; }
  // Gone when empty unless persistent.
  bool disposable() const noexcept { return destroyed_ || (occupants_.empty() && !config_.persistent); }
  // Set when the configuration or the affiliations changed (the service saves them), then cleared.
  bool take_changed() noexcept { return std::exchange(changed_, false); }

 private:
  struct occupant {
    std::string nick;
    jid real;  // full JID
    muc_role role = muc_role::participant;
    std::shared_ptr<const xml::element> presence;  // its last presence as sent to the room
  };
  struct kept {
    clock::time_point when;
    std::shared_ptr<const xml::element> message;  // as broadcast (from room/nick)
  };

  muc_affiliation affiliation_of(const jid& real) const;
  occupant* by_real(const jid& real);
  occupant* by_nick(std::string_view nick);
  muc_role default_role(muc_affiliation a) const;
  // The presence of `who` as `receiver` sees it (real JID only where allowed), with status codes.
  std::shared_ptr<xml::element> occupant_presence(const occupant& who, const occupant& receiver,
                                                  std::string_view type, const std::vector<int>& codes,
                                                  std::string_view new_nick = {}) const;
  void broadcast_presence(out& o, const occupant& who, std::string_view type, std::vector<int> codes,
                          std::string_view new_nick = {}) const;
  void join(out& o, const jid& from, std::string_view nick, const xml::element& p, clock::time_point now);
  void leave(out& o, const std::string& nick, std::vector<int> codes, std::string_view reason = {});
  void send_history(out& o, const occupant& to, const xml::element* muc_x, clock::time_point now) const;
  out admin(const jid& from, const xml::element& iq, const xml::element& query);
  out owner(const jid& from, const xml::element& iq, const xml::element& query);
  out disco(const xml::element& iq, const xml::element& query) const;
  void invite(out& o, const jid& from, const xml::element& m, const xml::element& invite);
  std::shared_ptr<xml::element> error(const xml::element& stanza, const jid& to, std::string_view type,
                                      std::string_view condition, std::string_view from_nick = {}) const;
  void apply_form(const xml::element& form);
  std::shared_ptr<xml::element> config_form() const;
  void destroy(out& o, std::string_view reason);

  jid address_;
  muc_config config_;
  std::map<std::string, muc_affiliation> affiliations_;  // by bare JID
  std::map<std::string, occupant> occupants_;            // by nick
  std::deque<kept> history_;
  std::shared_ptr<const xml::element> subject_;  // the last subject message, as broadcast
  std::shared_ptr<const xml::element> archived_;
  bool archiving_ = false;
  bool locked_ = false;
  bool destroyed_ = false;
  bool changed_ = false;
};

}  // namespace junction::xmpp
