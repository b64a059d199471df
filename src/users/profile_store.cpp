// Users' profiles in the user store: the vCard (XEP-0054) each user published, as XML text, and
// the contacts each user blocks (XEP-0191).
#include "users/user_store_impl.hpp"

namespace junction::users {

std::optional<std::string> user_store::vcard(std::string_view owner) const {
  auto* s = impl_->select_vcard.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return detail::column_text(s, 0);
  if (rc != SQLITE_DONE) impl_->fail("reading the vCard of " + std::string(owner));
  return std::nullopt;
}

void user_store::put_vcard(std::string_view owner, std::string_view vcard) {
  auto* s = impl_->put_vcard.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, vcard);
  impl_->run(s, "keeping the vCard of " + std::string(owner));
}

std::vector<std::string> user_store::blocklist(std::string_view owner) const {
  auto* s = impl_->select_blocks.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(detail::column_text(s, 0));
  if (rc != SQLITE_DONE) impl_->fail("reading the blocklist of " + std::string(owner));
  return out;
}

void user_store::block(std::string_view owner, std::string_view who, bool blocked) {
  auto* s = blocked ? impl_->insert_block.get() : impl_->erase_block.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, who);
  impl_->run(s, "changing the blocklist of " + std::string(owner));
}

void user_store::unblock_all(std::string_view owner) {
  auto* s = impl_->erase_blocks.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->run(s, "emptying the blocklist of " + std::string(owner));
}

}  // namespace junction::users
