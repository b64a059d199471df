// Rosters in the user store (schema version 4): one row per contact, its subscription state in
// `flags`, its groups one per line; a version per roster, raised by every change. SIP's contact
// lists are the same rows, read as "may the contact see the user's presence".
#include <sqlite3.h>

#include "users/user_store.hpp"
#include "users/user_store_impl.hpp"

namespace junction::users {
namespace {

using detail::check_names;
using detail::column_text;
using detail::statement_use;

enum flag : int { to_bit = 1, from_bit = 2, ask_bit = 4, approved_bit = 8, pending_in_bit = 16, listed_bit = 32 };

int flags_of(const roster_item& item) {
  return (item.to ? to_bit : 0) | (item.from ? from_bit : 0) | (item.ask ? ask_bit : 0) |
         (item.approved ? approved_bit : 0) | (item.pending_in ? pending_in_bit : 0) | (item.listed ? listed_bit : 0);
}

std::string join(const std::vector<std::string>& groups) {
  std::string out;
  for (const auto& g : groups) {
    if (!out.empty()) out += '\n';
    out += g;
  }
  return out;
}

roster_item item_of(sqlite3_stmt* s) {
  roster_item item;
  item.contact = column_text(s, 0);
  item.name = column_text(s, 1);
  const int flags = sqlite3_column_int(s, 2);
  item.to = flags & to_bit;
  item.from = flags & from_bit;
  item.ask = flags & ask_bit;
  item.approved = flags & approved_bit;
  item.pending_in = flags & pending_in_bit;
  item.listed = flags & listed_bit;
  const std::string groups = column_text(s, 3);
  std::size_t start = 0;
  while (start < groups.size()) {
    auto end = groups.find('\n', start);
    if (end == std::string::npos) end = groups.size();
    if (end > start) item.groups.push_back(groups.substr(start, end - start));
    start = end + 1;
  }
  return item;
}

// Nothing left to keep: no subscription either way, nothing asked, no name, no group.
bool empty_item(const roster_item& item) {
  return flags_of(item) == 0 && item.name.empty() && item.groups.empty();
}

}  // namespace

std::vector<roster_item> user_store::roster(std::string_view username, std::string_view realm) const {
  sqlite3_stmt* s = impl_->select_roster.get();
  statement_use use(s);
  impl_->bind(s, 1, username);
  impl_->bind(s, 2, realm);
  std::vector<roster_item> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(item_of(s));
  if (rc != SQLITE_DONE) impl_->fail("reading the roster of " + std::string(username));
  return out;
}

std::optional<roster_item> user_store::find_roster_item(std::string_view username, std::string_view realm,
                                                        std::string_view contact) const {
  sqlite3_stmt* s = impl_->select_roster_item.get();
  statement_use use(s);
  impl_->bind(s, 1, username);
  impl_->bind(s, 2, realm);
  impl_->bind(s, 3, contact);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) impl_->fail("reading a roster item of " + std::string(username));
  return item_of(s);
}

std::int64_t user_store::roster_version(std::string_view username, std::string_view realm) const {
  sqlite3_stmt* s = impl_->select_roster_version.get();
  statement_use use(s);
  impl_->bind(s, 1, username);
  impl_->bind(s, 2, realm);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) impl_->fail("reading the roster version of " + std::string(username));
  return sqlite3_column_int64(s, 0);
}

std::int64_t user_store::put_roster_item(std::string_view username, std::string_view realm, const roster_item& item) {
  check_names(username, realm);
  if (item.contact.empty()) throw std::invalid_argument("a roster item needs a contact");
  {
    sqlite3_stmt* s = impl_->put_roster.get();
    statement_use use(s);
    impl_->bind(s, 1, username);
    impl_->bind(s, 2, realm);
    impl_->bind(s, 3, item.contact);
    impl_->bind(s, 4, item.name);
    impl_->bind_int(s, 5, flags_of(item));
    impl_->bind(s, 6, join(item.groups));
    impl_->run(s, "keeping a roster item of " + std::string(username));
  }
  impl_->change(impl_->bump_roster_version.get(), username, realm, std::nullopt, "raising a roster version");
  return roster_version(username, realm);
}

std::int64_t user_store::remove_roster_item(std::string_view username, std::string_view realm,
                                            std::string_view contact) {
  check_names(username, realm);
  if (impl_->change(impl_->erase_roster_item.get(), username, realm, contact, "removing a roster item") > 0)
    impl_->change(impl_->bump_roster_version.get(), username, realm, std::nullopt, "raising a roster version");
  return roster_version(username, realm);
}

bool user_store::add_contact(std::string_view username, std::string_view realm, std::string_view contact) {
  check_names(username, realm);
  roster_item fresh;
  fresh.contact = std::string(contact);
  auto item = find_roster_item(username, realm, contact).value_or(fresh);
  if (item.from) return false;
  item.from = true;
  item.listed = true;
  put_roster_item(username, realm, item);
  return true;
}

bool user_store::remove_contact(std::string_view username, std::string_view realm, std::string_view contact) {
  check_names(username, realm);
  auto item = find_roster_item(username, realm, contact);
  if (!item || !item->from) return false;
  item->from = false;
  if (!item->to && !item->ask && !item->pending_in && !item->approved) item->listed = false;
  if (empty_item(*item)) remove_roster_item(username, realm, contact);
  else put_roster_item(username, realm, *item);
  return true;
}

std::vector<std::string> user_store::contacts(std::string_view username, std::string_view realm) const {
  std::vector<std::string> out;
  for (auto& item : roster(username, realm))
    if (item.from) out.push_back(std::move(item.contact));
  return out;
}

bool user_store::has_contact(std::string_view username, std::string_view realm, std::string_view contact) const {
  auto item = find_roster_item(username, realm, contact);
  return item && item->from;
}

}  // namespace junction::users
