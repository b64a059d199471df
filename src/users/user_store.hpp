#pragma once
// The users Junction authenticates, in an embedded SQLite database. It holds only secrets
// derived from passwords, never the passwords: the digest HA1 for MD5 and for SHA-256
// (RFC 7616 §3.4.2) for SIP, and SCRAM-SHA-1 and SCRAM-SHA-256 keys (RFC 5802, RFC 7677: salt,
// iterations, StoredKey, ServerKey) for XMPP's SASL. An HA1 still lets its holder answer digest
// challenges for that realm, so the database file is created readable by its owner only.
//
// Control plane: the operations are synchronous and throw (user_store_error for database
// failures, std::invalid_argument for names and passwords it refuses). One store belongs to one
// thread; a shard that needs lookups on the data path should cache what it reads.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "users/scram.hpp"

namespace junction::users {

// A database that cannot be opened, read or written; the message carries SQLite's own.
class user_store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// RFC 3261 §25 `user` without `escaped`: 1–64 of alphanum, mark ("-_.!~*'()") and
// user-unreserved ("&=+$,;"), not starting with '.'. Percent-escapes are refused so that one user
// has one spelling (a digest username is compared as text, and "%61lice" is not "alice"); '/',
// '?' and a leading '.' so that a name is safe in a URL path ("../x" is nobody's name).
bool is_valid_username(std::string_view name) noexcept;

// Host name characters (letters, digits, '-', '.'; no empty label), 1–253 of them: a realm names the domain
// the server answers for, and it is sent inside a quoted-string in every challenge.
bool is_valid_realm(std::string_view realm) noexcept;

// SQLite creates files with the process umask (often 0644), and the -wal and -shm files copy
// the database's mode. HA1s are password equivalents for their realm, so the file is created
// first, readable by its owner only; an existing file is left alone, with the mode the operator
// gave it. user_store does this itself; a process with several connections does it once, before
// any of them opens.
void create_private_file(const std::string& path) noexcept;

struct user_entry {
  std::string username;
  std::string realm;
  std::int64_t created = 0;  // seconds since the epoch
};

// One contact of a user's roster (RFC 6121 §2.1): the one contact list SIP and XMPP share.
struct roster_item {
  std::string contact;      // a bare address: "bob@example.com"
  std::string name;         // what the user calls the contact, "" for none
  bool to = false;          // the user sees the contact's presence
  bool from = false;        // the contact sees the user's (SIP: the contact may watch the user)
  bool ask = false;         // the user asked to see the contact's presence, unanswered
  bool approved = false;    // the user pre-approved the contact's request (RFC 6121 §3.4)
  bool pending_in = false;  // the contact asked to see the user's presence, unanswered
  std::vector<std::string> groups;
  bool listed = false;      // on the roster (the user added it, subscribed or approved); an item
                            // that only holds a contact's unanswered request is not
  friend bool operator==(const roster_item&, const roster_item&) = default;
};

struct user_record {
  std::string username;
  std::string realm;
  std::string ha1_md5;     // lowercase hex, 32 characters
  std::string ha1_sha256;  // lowercase hex, 64 characters
  std::int64_t created = 0;
  scram_keys scram_sha1;   // empty for a user added before Junction kept SCRAM keys
  scram_keys scram_sha256;
};

// A message kept for a user who was offline (SIP MESSAGE today, XMPP later): the headers that
// say who sent it to whom, as the sender wrote them, and the body.
struct kept_mail {
  std::string recipient;     // the address-of-record it waits for ("sip:bob@example.com")
  std::string sender;        // From, as sent
  std::string addressee;     // To, as sent
  std::string content_type;
  std::string body;
  std::int64_t received = 0;  // seconds since the epoch
};

// One message in a user's archive (XEP-0313): the stanza as the user sent or received it.
struct archived_message {
  std::string owner;      // the user's bare JID: "alice@example.com"
  std::string id;         // unique in the owner's archive (the stanza-id, XEP-0359)
  std::int64_t stamp = 0; // microseconds since the epoch
  std::string with_bare;  // the other party, bare and full
  std::string with_full;
  std::string stanza;     // the message as XML (jabber:client)
};

// A page of an archive query: what the filters select, then a page of it (XEP-0059).
struct archive_query {
  std::string with;       // "": anyone; a bare JID: any of its resources; a full JID: that one
  bool with_is_full = false;
  std::optional<std::int64_t> start, end;  // microseconds, inclusive
  std::string after_id, before_id;         // page after / before these archive ids
  bool last_page = false;                  // <before/> empty: the newest page
  std::size_t max = 50;
};

struct archive_page {
  std::vector<archived_message> messages;  // oldest first
  bool complete = true;     // nothing further in the direction of the query
  std::size_t count = 0;    // everything the filters select
  bool unknown_id = false;  // after_id or before_id is not in the archive
};

// A persistent chat room (XEP-0045) as the XMPP service keeps it.
struct stored_room {
  std::string room;          // its bare JID
  std::string config;        // the service's own text
  std::string affiliations;
};

// A personal eventing node (XEP-0163) and its items, oldest first, as the XMPP service keeps them.
struct stored_pep_node {
  std::string node;
  std::string config;  // the service's own text
  std::vector<std::pair<std::string, std::string>> items;  // id, the <item/> as XML
};

class user_store {
 public:
  // `path` is a file name or ":memory:". Creates the file (mode 0600) and the schema if they
  // do not exist; turns on WAL journaling and a busy timeout so that a CLI editing users while
  // the server reads them waits instead of failing.
  explicit user_store(const std::string& path);
  ~user_store();
  user_store(user_store&&) noexcept;
  user_store& operator=(user_store&&) noexcept;
  user_store(const user_store&) = delete;
  user_store& operator=(const user_store&) = delete;

  // Adds the user, or replaces it (new HA1s, new SCRAM keys with new salts, new creation time). The password must not be empty.
  void add(std::string_view username, std::string_view realm, std::string_view password);
  // True if the user existed. Invalid names throw, like add: they come from an operator.
  bool remove(std::string_view username, std::string_view realm);
  // Every user, ordered by realm then name.
  std::vector<user_entry> list() const;
  // Names are compared exactly (case-sensitively), as the digest computation does. Names that
  // fail validation are simply not found: they may come straight from a client's header.
  std::optional<user_record> find(std::string_view username, std::string_view realm) const;

  // The user's roster (RFC 6121 §2): the contacts, in order, each with what the two share.
  std::vector<roster_item> roster(std::string_view username, std::string_view realm) const;
  std::optional<roster_item> find_roster_item(std::string_view username, std::string_view realm,
                                              std::string_view contact) const;
  // Adds or replaces an item, or removes one: the roster's version after the change (removing
  // an item that is not there changes nothing and gives the version as it is).
  std::int64_t put_roster_item(std::string_view username, std::string_view realm, const roster_item& item);
  std::int64_t remove_roster_item(std::string_view username, std::string_view realm, std::string_view contact);
  std::int64_t roster_version(std::string_view username, std::string_view realm) const;

  // The user's contact list as SIP sees it: the roster's contacts that may see the user's
  // presence ("from"). The SIP presence server lets only these watch the user. Removing a user
  // removes its roster. add/remove return whether anything changed.
  bool add_contact(std::string_view username, std::string_view realm, std::string_view contact);
  bool remove_contact(std::string_view username, std::string_view realm, std::string_view contact);
  std::vector<std::string> contacts(std::string_view username, std::string_view realm) const;
  bool has_contact(std::string_view username, std::string_view realm, std::string_view contact) const;

  // The mailbox of messages kept for offline users, so that they outlive a restart. The server
  // keeps its working copy in memory and writes through.
  void keep_mail(const kept_mail& mail);
  void drop_mail(std::string_view recipient);
  void drop_mail_before(std::int64_t received);
  std::vector<kept_mail> all_mail() const;  // oldest first

  // The message archive (XEP-0313). archive() ignores an id the owner has already.
  void archive(const archived_message& m);
  archive_page query_archive(std::string_view owner, const archive_query& q) const;
  std::size_t expire_archive(std::int64_t before);  // every message older: how many went
  std::size_t forget_archive(std::string_view owner);  // all of one owner's (a room's that ends)

  // Profiles (profile_store.cpp): the vCard a user published (XEP-0054), as XML text, and the
  // addresses a user blocks (XEP-0191), by the user's bare JID.
  std::optional<std::string> vcard(std::string_view owner) const;
  // Private XML storage (XEP-0049): the element a user keeps under namespace `ns`, as XML text;
  // empty text forgets it. usage: how many other namespaces the user keeps, and their bytes.
  std::optional<std::string> private_xml(std::string_view owner, std::string_view ns) const;
  void put_private_xml(std::string_view owner, std::string_view ns, std::string_view xml);
  std::pair<std::size_t, std::size_t> private_xml_usage(std::string_view owner, std::string_view other_than) const;
  void put_vcard(std::string_view owner, std::string_view vcard);
  std::vector<std::string> blocklist(std::string_view owner) const;
  void block(std::string_view owner, std::string_view who, bool blocked);
  void unblock_all(std::string_view owner);

  // Personal eventing (pep_store.cpp), by the owner's bare JID. Putting an item with an id the
  // node has replaces it and makes it the newest; dropping a node drops its items.
  std::vector<stored_pep_node> pep_nodes(std::string_view owner) const;
  void put_pep_node(std::string_view owner, std::string_view node, std::string_view config);
  void drop_pep_node(std::string_view owner, std::string_view node);
  void put_pep_item(std::string_view owner, std::string_view node, std::string_view id, std::string_view item);
  void drop_pep_item(std::string_view owner, std::string_view node, std::string_view id);
  void drop_pep_items(std::string_view owner, std::string_view node);

  // Persistent chat rooms.
  void put_room(const stored_room& room);
  void drop_room(std::string_view room);
  std::vector<stored_room> all_rooms() const;

  // Changes when another connection (another process) commits to the file (SQLite's
  // PRAGMA data_version): a cache of what was read can tell it is stale.
  std::int64_t data_version() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace junction::users
