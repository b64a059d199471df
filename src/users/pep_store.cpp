// Personal eventing (XEP-0163) in the user store: each user's nodes with their configuration (text
// the XMPP service alone reads) and their items as XML, in the order they were published.
#include <map>

#include "users/user_store_impl.hpp"

namespace junction::users {

std::vector<stored_pep_node> user_store::pep_nodes(std::string_view owner) const {
  std::vector<stored_pep_node> out;
  std::map<std::string, std::size_t, std::less<>> index;
  {
    auto* s = impl_->select_pep_nodes.get();
    detail::statement_use use(s);
    impl_->bind(s, 1, owner);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      index[detail::column_text(s, 0)] = out.size();
      out.push_back({detail::column_text(s, 0), detail::column_text(s, 1), {}});
    }
    if (rc != SQLITE_DONE) impl_->fail("reading the eventing nodes of " + std::string(owner));
  }
  auto* s = impl_->select_pep_items.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (auto it = index.find(detail::column_text(s, 0)); it != index.end())
      out[it->second].items.emplace_back(detail::column_text(s, 1), detail::column_text(s, 2));
  if (rc != SQLITE_DONE) impl_->fail("reading the eventing items of " + std::string(owner));
  return out;
}

void user_store::put_pep_node(std::string_view owner, std::string_view node, std::string_view config) {
  auto* s = impl_->put_pep_node.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, node);
  impl_->bind(s, 3, config);
  impl_->run(s, "keeping an eventing node of " + std::string(owner));
}

void user_store::drop_pep_node(std::string_view owner, std::string_view node) {
  drop_pep_items(owner, node);
  auto* s = impl_->erase_pep_node.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, node);
  impl_->run(s, "dropping an eventing node of " + std::string(owner));
}

void user_store::put_pep_item(std::string_view owner, std::string_view node, std::string_view id,
                              std::string_view item) {
  auto* s = impl_->put_pep_item.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, node);
  impl_->bind(s, 3, id);
  impl_->bind(s, 4, item);
  impl_->run(s, "keeping an eventing item of " + std::string(owner));
}

void user_store::drop_pep_item(std::string_view owner, std::string_view node, std::string_view id) {
  auto* s = impl_->erase_pep_item.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, node);
  impl_->bind(s, 3, id);
  impl_->run(s, "dropping an eventing item of " + std::string(owner));
}

void user_store::drop_pep_items(std::string_view owner, std::string_view node) {
  auto* s = impl_->erase_pep_items.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->bind(s, 2, node);
  impl_->run(s, "dropping the eventing items of " + std::string(owner));
}

}  // namespace junction::users
