// Users' profiles in the user store: the vCard (XEP-0054) each user published, as XML text, the
// contacts each user blocks (XEP-0191), and what each keeps in private XML storage (XEP-0049).
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

std::optional<std::string> user_store::private_xml(std::string_view owner, std::string_view ns) const {
  auto* s = impl_->select_private.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, ns);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return detail::column_text(s, 0);
  if (rc != SQLITE_DONE) impl_->fail("reading the private storage of " + std::string(owner));
  return std::nullopt;
}

void user_store::put_private_xml(std::string_view owner, std::string_view ns, std::string_view xml) {
  auto* s = xml.empty() ? impl_->erase_private.get() : impl_->put_private.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, ns);
  if (!xml.empty()) impl_->bind(s, 3, xml);
  impl_->run(s, "keeping the private storage of " + std::string(owner));
}

std::pair<std::size_t, std::size_t> user_store::private_xml_usage(std::string_view owner,
                                                                  std::string_view other_than) const {
  auto* s = impl_->private_usage.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, other_than);
  if (sqlite3_step(s) != SQLITE_ROW) impl_->fail("measuring the private storage of " + std::string(owner));
  return {static_cast<std::size_t>(sqlite3_column_int64(s, 0)), static_cast<std::size_t>(sqlite3_column_int64(s, 1))};
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
