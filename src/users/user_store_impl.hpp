#pragma once
// The user store's SQLite side, shared by its source files (user_store.cpp: users, SCRAM keys,
// contact lists as SIP sees them, the mailbox; roster_store.cpp: XMPP rosters). Nobody else's.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "users/user_store.hpp"

namespace junction::users::detail {

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct statement_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// Leaves the statement ready for its next use however the current one ends.
class statement_use {
 public:
  explicit statement_use(sqlite3_stmt* s) noexcept : s_(s) {}
  ~statement_use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;

 private:
  sqlite3_stmt* s_;
};

inline std::string column_blob(sqlite3_stmt* s, int column) {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(s, column));
  return bytes ? std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(s, column))) : std::string{};
}

inline std::string column_text(sqlite3_stmt* s, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, column)))
              : std::string();
}

// Throws std::invalid_argument for a name or realm the store refuses.
void check_names(std::string_view username, std::string_view realm);

}  // namespace junction::users::detail

namespace junction::users {

struct user_store::impl {
  using db_ptr = detail::db_ptr;
  using statement_ptr = detail::statement_ptr;
  using statement_use = detail::statement_use;
  std::string path;
  db_ptr db;  // declared first so it is closed after the statements are finalized
  statement_ptr insert;
  statement_ptr erase;
  statement_ptr select_all;
  statement_ptr select_one;
  statement_ptr insert_scram;
  statement_ptr erase_scram;
  statement_ptr select_scram;
  statement_ptr select_roster;
  statement_ptr select_roster_item;
  statement_ptr put_roster;
  statement_ptr erase_roster_item;
  statement_ptr erase_roster;
  statement_ptr select_roster_version;
  statement_ptr bump_roster_version;
  statement_ptr erase_roster_version;
  statement_ptr insert_archive;
  statement_ptr expire_archive;
  statement_ptr erase_archive;
  statement_ptr put_room;
  statement_ptr drop_room;
  statement_ptr select_rooms;
  statement_ptr select_vcard;
  statement_ptr put_vcard;
  statement_ptr erase_vcard;
  statement_ptr select_private, put_private, erase_private, private_usage, erase_private_all;
  statement_ptr select_blocks;
  statement_ptr insert_block;
  statement_ptr erase_block;
  statement_ptr erase_blocks;
  statement_ptr select_pep_nodes;
  statement_ptr select_pep_items;
  statement_ptr put_pep_node;
  statement_ptr erase_pep_node;
  statement_ptr put_pep_item;
  statement_ptr erase_pep_item;
  statement_ptr erase_pep_items;
  statement_ptr erase_pep_all_nodes;
  statement_ptr erase_pep_all_items;
  statement_ptr insert_mail;
  statement_ptr erase_mail_for;
  statement_ptr erase_mail_before;
  statement_ptr select_mail;

  [[noreturn]] void fail(const std::string& what) const {
    throw user_store_error("user store " + path + ": " + what + ": " +
                           (db ? sqlite3_errmsg(db.get()) : "out of memory"));
  }

  void exec(const char* sql, const char* what) {
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
  }

  statement_ptr prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      fail(std::string("preparing \"") + sql + "\"");
    return statement_ptr(s);
  }

  void bind(sqlite3_stmt* s, int index, std::string_view text) {
    if (sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK)
      fail("binding a parameter");
  }

  void bind_blob(sqlite3_stmt* s, int index, std::string_view bytes) {
    if (sqlite3_bind_blob(s, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT) != SQLITE_OK)
      fail("binding a parameter");
  }

  void keep_scram(std::string_view username, std::string_view realm, std::string_view mechanism,
                  const scram_keys& keys) {
    sqlite3_stmt* s = insert_scram.get();
    statement_use use(s);
    bind(s, 1, username);
    bind(s, 2, realm);
    bind(s, 3, mechanism);
    bind_blob(s, 4, keys.salt);
    bind_int(s, 5, keys.iterations);
    bind_blob(s, 6, keys.stored_key);
    bind_blob(s, 7, keys.server_key);
    run(s, "keeping the SCRAM keys of " + std::string(username));
  }

  // Runs a statement that returns no rows.
  void run(sqlite3_stmt* s, const std::string& what) {
    if (sqlite3_step(s) != SQLITE_DONE) fail(what);
  }

  void open();

  void bind_int(sqlite3_stmt* s, int index, std::int64_t value) {
    if (sqlite3_bind_int64(s, index, value) != SQLITE_OK) fail("binding a parameter");
  }

  // A statement over (username, realm, contact?) that changes rows: how many it changed.
  int change(sqlite3_stmt* s, std::string_view username, std::string_view realm,
             std::optional<std::string_view> contact, const std::string& what) {
    statement_use use(s);
    bind(s, 1, username);
    bind(s, 2, realm);
    if (contact) bind(s, 3, *contact);
    run(s, what);
    return sqlite3_changes(db.get());
  }
};

}  // namespace junction::users
