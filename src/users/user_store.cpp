#include "users/user_store.hpp"

#include "users/user_store_impl.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>

#include "users/digest.hpp"

namespace junction::users {
namespace {

using detail::column_blob;
using detail::column_text;
using detail::check_names;
using detail::statement_use;
using detail::statement_ptr;

// Version 1: digest HA1s, SCRAM columns present but unused. Version 2: contact lists and the
// mailbox of messages kept for offline users. Version 3: SCRAM keys (SHA-1 and SHA-256) in a
// table of their own, one row per mechanism (the users table's unused SCRAM columns stay empty).
// Version 4: rosters (XMPP's, RFC 6121) in place of the contact lists, which become the roster
// items whose contact may see the user's presence ("from"), with a version per roster. Bumped with every schema change; a store written
// by a newer Junction is refused rather than misread. Every statement is "IF NOT EXISTS", so the
// same script brings any older store up to date.
// Version 5: the message archive (XEP-0313), each user's messages as stanzas in order.
// Version 6: persistent chat rooms (XEP-0045). Version 7: vCards (XEP-0054) and blocklists
// (XEP-0191). Version 8: personal eventing nodes and their items (XEP-0163: avatars, bookmarks).
// Version 9: private XML storage (XEP-0049), one element per namespace per user.
constexpr int schema_version = 9;

constexpr const char* schema_sql = R"sql(
  CREATE TABLE IF NOT EXISTS users (
    username TEXT NOT NULL,
    realm TEXT NOT NULL,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    created INTEGER NOT NULL,
    scram_sha256_salt BLOB,
    scram_sha256_iterations INTEGER,
    scram_sha256_stored_key BLOB,
    scram_sha256_server_key BLOB,
    PRIMARY KEY (username, realm)
  );
  CREATE TABLE IF NOT EXISTS contacts (
    username TEXT NOT NULL,
    realm TEXT NOT NULL,
    contact TEXT NOT NULL,
    PRIMARY KEY (username, realm, contact)
  );
  CREATE TABLE IF NOT EXISTS mailbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    addressee TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    received INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS mailbox_recipient ON mailbox (recipient);
  CREATE TABLE IF NOT EXISTS scram (
    username TEXT NOT NULL,
    realm TEXT NOT NULL,
    mechanism TEXT NOT NULL,
    salt BLOB NOT NULL,
    iterations INTEGER NOT NULL,
    stored_key BLOB NOT NULL,
    server_key BLOB NOT NULL,
    PRIMARY KEY (username, realm, mechanism)
  );
  CREATE TABLE IF NOT EXISTS roster (
    username TEXT NOT NULL,
    realm TEXT NOT NULL,
    contact TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    flags INTEGER NOT NULL DEFAULT 0,
    groups TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (username, realm, contact)
  );
  CREATE TABLE IF NOT EXISTS roster_versions (
    username TEXT NOT NULL,
    realm TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (username, realm)
  );
  INSERT OR IGNORE INTO roster (username, realm, contact, flags) SELECT username, realm, contact, 34 FROM contacts;
  DROP TABLE IF EXISTS contacts;
  CREATE TABLE IF NOT EXISTS archive (
    seq INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    stamp INTEGER NOT NULL,
    with_bare TEXT NOT NULL,
    with_full TEXT NOT NULL,
    stanza TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS archive_owner ON archive (owner, seq);
  CREATE UNIQUE INDEX IF NOT EXISTS archive_id ON archive (owner, id);
  CREATE INDEX IF NOT EXISTS archive_stamp ON archive (stamp);
  CREATE TABLE IF NOT EXISTS muc_rooms (
    room TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    affiliations TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS vcards (
    owner TEXT PRIMARY KEY,
    vcard TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS blocklist (
    owner TEXT NOT NULL,
    blocked TEXT NOT NULL,
    PRIMARY KEY (owner, blocked)
  );
  CREATE TABLE IF NOT EXISTS pep_nodes (
    owner TEXT NOT NULL,
    node TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (owner, node)
  );
  CREATE TABLE IF NOT EXISTS pep_items (
    owner TEXT NOT NULL,
    node TEXT NOT NULL,
    id TEXT NOT NULL,
    item TEXT NOT NULL,
    UNIQUE (owner, node, id)
  );
  CREATE TABLE IF NOT EXISTS private_xml (
    owner TEXT NOT NULL,
    ns TEXT NOT NULL,
    xml TEXT NOT NULL,
    PRIMARY KEY (owner, ns)
  );
  PRAGMA user_version = 9;
)sql";

// A writer (the CLI adding a user) holds the lock for milliseconds; five seconds is generous.
constexpr int busy_timeout_ms = 5000;

bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_user_char(char c) noexcept {
  if (is_alnum(c)) return true;
  switch (c) {
    // mark (RFC 3261 §25)
    case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':
    // user-unreserved
    case '&': case '=': case '+': case '$': case ',': case ';': case '?': case '/': return true;
    default: return false;
  }
}

}  // namespace

namespace detail {

void check_names(std::string_view username, std::string_view realm) {
  if (!is_valid_username(username))
    throw std::invalid_argument("invalid user name \"" + std::string(username) +
                                "\": use 1-64 letters, digits or -_.!~*'()&=+$,;?/");
  if (!is_valid_realm(realm))
    throw std::invalid_argument("invalid realm \"" + std::string(realm) +
                                "\": use 1-253 letters, digits, '-' or '.'");
}

}  // namespace detail


void create_private_file(const std::string& path) noexcept {
  if (path.empty() || path == ":memory:") return;
  // O_EXCL: an existing file is never opened here. Closing a descriptor drops every POSIX lock
  // this process holds on the file, including those of SQLite connections open on it; another
  // process would then think itself the last user, checkpoint and delete the WAL, and leave
  // this process's connections reading a stale snapshot for good.
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);  // EEXIST is the usual case; other failures SQLite reports below
}

bool is_valid_username(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  // Names end up in URL paths (/api/v1/users/<name>@<domain>) and file names: no '/', no '?',
  // and no leading '.', so that "../x" or ".hidden" is nobody's name.
  if (name.front() == '.') return false;
  for (char c : name)
    if (!is_user_char(c) || c == '/' || c == '?') return false;
  return true;
}

bool is_valid_realm(std::string_view realm) noexcept {
  if (realm.empty() || realm.size() > 253) return false;
  // Labels separated by single dots: no leading, trailing or doubled '.' (so never "..").
  if (realm.front() == '.' || realm.back() == '.' || realm.find("..") != std::string_view::npos) return false;
  for (char c : realm)
    if (!is_alnum(c) && c != '-' && c != '.') return false;
  return true;
}

void user_store::impl::open() {
  create_private_file(path);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                   SQLITE_OPEN_NOMUTEX, nullptr);
  db.reset(raw);
  if (rc != SQLITE_OK) fail("cannot open");
  sqlite3_extended_result_codes(db.get(), 1);
  // Before anything that takes a lock, so that even the WAL switch waits for a busy writer.
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  // WAL lets the server read while the CLI writes. (":memory:" stays in "memory" mode.)
  exec("PRAGMA journal_mode = WAL", "enabling WAL");
  // Deleted rows are overwritten, so a removed user's HA1s do not linger in free pages.
  exec("PRAGMA secure_delete = ON", "enabling secure_delete");

  statement_ptr version = prepare("PRAGMA user_version");
  if (sqlite3_step(version.get()) != SQLITE_ROW) fail("reading the schema version");
  int found = sqlite3_column_int(version.get(), 0);
  version.reset();
  if (found > schema_version)
    throw user_store_error("user store " + path + ": schema version " + std::to_string(found) +
                           " is newer than this build understands (" +
                           std::to_string(schema_version) + ")");
  if (found < schema_version) {
    exec("BEGIN IMMEDIATE", "starting the schema transaction");
    try {
      exec(schema_sql, "creating the schema");
      exec("COMMIT", "committing the schema");
    } catch (...) {
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  // INSERT OR REPLACE deletes the old row first, which is what clears the SCRAM columns.
  insert = prepare(
      "INSERT OR REPLACE INTO users (username, realm, ha1_md5, ha1_sha256, created) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  erase = prepare("DELETE FROM users WHERE username = ?1 AND realm = ?2");
  select_all = prepare("SELECT username, realm, created FROM users ORDER BY realm, username");
  select_one = prepare(
      "SELECT ha1_md5, ha1_sha256, created FROM users WHERE username = ?1 AND realm = ?2");
  insert_scram = prepare(
      "INSERT OR REPLACE INTO scram (username, realm, mechanism, salt, iterations, stored_key, server_key) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  erase_scram = prepare("DELETE FROM scram WHERE username = ?1 AND realm = ?2");
  select_scram = prepare(
      "SELECT mechanism, salt, iterations, stored_key, server_key FROM scram WHERE username = ?1 AND realm = ?2");
  select_roster = prepare(
      "SELECT contact, name, flags, groups FROM roster WHERE username = ?1 AND realm = ?2 ORDER BY contact");
  select_roster_item = prepare(
      "SELECT contact, name, flags, groups FROM roster WHERE username = ?1 AND realm = ?2 AND contact = ?3");
  put_roster = prepare(
      "INSERT OR REPLACE INTO roster (username, realm, contact, name, flags, groups) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  erase_roster_item = prepare("DELETE FROM roster WHERE username = ?1 AND realm = ?2 AND contact = ?3");
  erase_roster = prepare("DELETE FROM roster WHERE username = ?1 AND realm = ?2");
  select_roster_version = prepare("SELECT version FROM roster_versions WHERE username = ?1 AND realm = ?2");
  bump_roster_version = prepare(
      "INSERT INTO roster_versions (username, realm, version) VALUES (?1, ?2, 1) "
      "ON CONFLICT (username, realm) DO UPDATE SET version = version + 1");
  erase_roster_version = prepare("DELETE FROM roster_versions WHERE username = ?1 AND realm = ?2");
  insert_mail = prepare(
      "INSERT INTO mailbox (recipient, sender, addressee, content_type, body, received) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  erase_mail_for = prepare("DELETE FROM mailbox WHERE recipient = ?1");
  erase_mail_before = prepare("DELETE FROM mailbox WHERE received < ?1");
  select_mail = prepare(
      "SELECT recipient, sender, addressee, content_type, body, received FROM mailbox ORDER BY id");
  insert_archive = prepare(
      "INSERT OR IGNORE INTO archive (owner, id, stamp, with_bare, with_full, stanza) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  expire_archive = prepare("DELETE FROM archive WHERE stamp < ?1");
  erase_archive = prepare("DELETE FROM archive WHERE owner = ?1");
  put_room = prepare("INSERT OR REPLACE INTO muc_rooms (room, config, affiliations) VALUES (?1, ?2, ?3)");
  drop_room = prepare("DELETE FROM muc_rooms WHERE room = ?1");
  select_rooms = prepare("SELECT room, config, affiliations FROM muc_rooms ORDER BY room");
  select_vcard = prepare("SELECT vcard FROM vcards WHERE owner = ?1");
  put_vcard = prepare("INSERT OR REPLACE INTO vcards (owner, vcard) VALUES (?1, ?2)");
  erase_vcard = prepare("DELETE FROM vcards WHERE owner = ?1");
  select_blocks = prepare("SELECT blocked FROM blocklist WHERE owner = ?1 ORDER BY blocked");
  insert_block = prepare("INSERT OR IGNORE INTO blocklist (owner, blocked) VALUES (?1, ?2)");
  erase_block = prepare("DELETE FROM blocklist WHERE owner = ?1 AND blocked = ?2");
  erase_blocks = prepare("DELETE FROM blocklist WHERE owner = ?1");
  // Items in the order they were published: a replaced row gets a new, larger rowid.
  select_pep_nodes = prepare("SELECT node, config FROM pep_nodes WHERE owner = ?1 ORDER BY node");
  select_pep_items = prepare("SELECT node, id, item FROM pep_items WHERE owner = ?1 ORDER BY rowid");
  put_pep_node = prepare("INSERT OR REPLACE INTO pep_nodes (owner, node, config) VALUES (?1, ?2, ?3)");
  erase_pep_node = prepare("DELETE FROM pep_nodes WHERE owner = ?1 AND node = ?2");
  put_pep_item = prepare("INSERT OR REPLACE INTO pep_items (owner, node, id, item) VALUES (?1, ?2, ?3, ?4)");
  erase_pep_item = prepare("DELETE FROM pep_items WHERE owner = ?1 AND node = ?2 AND id = ?3");
  erase_pep_items = prepare("DELETE FROM pep_items WHERE owner = ?1 AND node = ?2");
  erase_pep_all_nodes = prepare("DELETE FROM pep_nodes WHERE owner = ?1");
  erase_pep_all_items = prepare("DELETE FROM pep_items WHERE owner = ?1");
  select_private = prepare("SELECT xml FROM private_xml WHERE owner = ?1 AND ns = ?2");
  put_private = prepare("INSERT OR REPLACE INTO private_xml (owner, ns, xml) VALUES (?1, ?2, ?3)");
  erase_private = prepare("DELETE FROM private_xml WHERE owner = ?1 AND ns = ?2");
  private_usage = prepare("SELECT count(*), coalesce(sum(length(CAST(xml AS BLOB))), 0) FROM private_xml WHERE owner = ?1 AND ns <> ?2");
  erase_private_all = prepare("DELETE FROM private_xml WHERE owner = ?1");
}

user_store::user_store(const std::string& path) : impl_(std::make_unique<impl>()) {
  impl_->path = path;
  impl_->open();
}

user_store::~user_store() = default;
user_store::user_store(user_store&&) noexcept = default;
user_store& user_store::operator=(user_store&&) noexcept = default;

void user_store::add(std::string_view username, std::string_view realm,
                     std::string_view password) {
  check_names(username, realm);
  if (password.empty()) throw std::invalid_argument("the password must not be empty");
  const std::string md5 = ha1(digest_algorithm::md5, username, realm, password);
  const std::string sha256 = ha1(digest_algorithm::sha256, username, realm, password);
  const scram_keys sha1_keys = make_scram_keys(scram_hash::sha1, password);
  const scram_keys sha256_keys = make_scram_keys(scram_hash::sha256, password);
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());

  sqlite3_stmt* s = impl_->insert.get();
  statement_use use(s);
  impl_->bind(s, 1, username);
  impl_->bind(s, 2, realm);
  impl_->bind(s, 3, md5);
  impl_->bind(s, 4, sha256);
  if (sqlite3_bind_int64(s, 5, now.time_since_epoch().count()) != SQLITE_OK)
    impl_->fail("binding a parameter");
  impl_->exec("BEGIN IMMEDIATE", "starting to add a user");
  try {
    impl_->run(s, "adding user " + std::string(username));
    impl_->change(impl_->erase_scram.get(), username, realm, std::nullopt, "replacing SCRAM keys");
    impl_->keep_scram(username, realm, "SCRAM-SHA-1", sha1_keys);
    impl_->keep_scram(username, realm, "SCRAM-SHA-256", sha256_keys);
    impl_->exec("COMMIT", "adding a user");
  } catch (...) {
    sqlite3_exec(impl_->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

bool user_store::remove(std::string_view username, std::string_view realm) {
  check_names(username, realm);
  sqlite3_stmt* s = impl_->erase.get();
  statement_use use(s);
  impl_->bind(s, 1, username);
  impl_->bind(s, 2, realm);
  impl_->run(s, "removing user " + std::string(username));
  bool removed = sqlite3_changes(impl_->db.get()) > 0;
  impl_->change(impl_->erase_scram.get(), username, realm, std::nullopt,
                "removing the SCRAM keys of " + std::string(username));
  impl_->change(impl_->erase_roster.get(), username, realm, std::nullopt,
                "removing the roster of " + std::string(username));
  impl_->change(impl_->erase_roster_version.get(), username, realm, std::nullopt,
                "removing the roster version of " + std::string(username));
  {
    sqlite3_stmt* a = impl_->erase_archive.get();
    statement_use archive_use(a);
    impl_->bind(a, 1, std::string(username) + "@" + std::string(realm));
    impl_->run(a, "removing the archive of " + std::string(username));
    for (auto* st : {impl_->erase_vcard.get(), impl_->erase_blocks.get(), impl_->erase_pep_all_nodes.get(),
                     impl_->erase_pep_all_items.get(), impl_->erase_private_all.get()}) {
      statement_use u(st);
      impl_->bind(st, 1, std::string(username) + "@" + std::string(realm));
      impl_->run(st, "removing the profile of " + std::string(username));
    }
  }
  return removed;
}

void user_store::keep_mail(const kept_mail& mail) {
  sqlite3_stmt* s = impl_->insert_mail.get();
  statement_use use(s);
  impl_->bind(s, 1, mail.recipient);
  impl_->bind(s, 2, mail.sender);
  impl_->bind(s, 3, mail.addressee);
  impl_->bind(s, 4, mail.content_type);
  if (sqlite3_bind_blob64(s, 5, mail.body.data(), mail.body.size(), SQLITE_TRANSIENT) != SQLITE_OK)
    impl_->fail("binding a parameter");
  impl_->bind_int(s, 6, mail.received);
  impl_->run(s, "keeping a message for " + mail.recipient);
}

void user_store::drop_mail(std::string_view recipient) {
  sqlite3_stmt* s = impl_->erase_mail_for.get();
  statement_use use(s);
  impl_->bind(s, 1, recipient);
  impl_->run(s, "dropping the messages of " + std::string(recipient));
}

void user_store::drop_mail_before(std::int64_t received) {
  sqlite3_stmt* s = impl_->erase_mail_before.get();
  statement_use use(s);
  impl_->bind_int(s, 1, received);
  impl_->run(s, "dropping old messages");
}

std::vector<kept_mail> user_store::all_mail() const {
  sqlite3_stmt* s = impl_->select_mail.get();
  statement_use use(s);
  std::vector<kept_mail> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const auto* body = static_cast<const char*>(sqlite3_column_blob(s, 4));
    out.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3),
                   std::string(body ? body : "", static_cast<std::size_t>(sqlite3_column_bytes(s, 4))),
                   sqlite3_column_int64(s, 5)});
  }
  if (rc != SQLITE_DONE) impl_->fail("reading the mailbox");
  return out;
}

std::vector<user_entry> user_store::list() const {
  sqlite3_stmt* s = impl_->select_all.get();
  statement_use use(s);
  std::vector<user_entry> users;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    users.push_back({column_text(s, 0), column_text(s, 1), sqlite3_column_int64(s, 2)});
  if (rc != SQLITE_DONE) impl_->fail("listing users");
  return users;
}

std::optional<user_record> user_store::find(std::string_view username,
                                            std::string_view realm) const {
  if (!is_valid_username(username) || !is_valid_realm(realm)) return std::nullopt;
  sqlite3_stmt* s = impl_->select_one.get();
  statement_use use(s);
  impl_->bind(s, 1, username);
  impl_->bind(s, 2, realm);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) impl_->fail("looking up user " + std::string(username));
  user_record record{std::string(username), std::string(realm), column_text(s, 0), column_text(s, 1),
                     sqlite3_column_int64(s, 2), {}, {}};
  sqlite3_stmt* k = impl_->select_scram.get();
  statement_use keys_use(k);
  impl_->bind(k, 1, username);
  impl_->bind(k, 2, realm);
  while ((rc = sqlite3_step(k)) == SQLITE_ROW) {
    scram_keys keys{column_blob(k, 1), static_cast<std::uint32_t>(sqlite3_column_int64(k, 2)), column_blob(k, 3),
                    column_blob(k, 4)};
    const std::string mechanism = column_text(k, 0);
    if (mechanism == "SCRAM-SHA-1") record.scram_sha1 = std::move(keys);
    else if (mechanism == "SCRAM-SHA-256") record.scram_sha256 = std::move(keys);
  }
  if (rc != SQLITE_DONE) impl_->fail("looking up the SCRAM keys of " + std::string(username));
  return record;
}

std::int64_t user_store::data_version() const {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(impl_->db.get(), "PRAGMA data_version", -1, &s, nullptr) != SQLITE_OK)
    impl_->fail("reading data_version");
  statement_ptr owned(s);
  if (sqlite3_step(s) != SQLITE_ROW) impl_->fail("reading data_version");
  return sqlite3_column_int64(s, 0);
}

}  // namespace junction::users
