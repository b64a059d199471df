// Persistent multi-user chat rooms (XEP-0045) in the user store: each room's configuration and
// affiliations, as the XMPP service writes them (text it alone reads).
#include "users/user_store_impl.hpp"

namespace junction::users {

void user_store::put_room(const stored_room& room) {
  auto* s = impl_->put_room.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, room.room);
  impl_->bind(s, 2, room.config);
  impl_->bind(s, 3, room.affiliations);
  impl_->run(s, "keeping room " + room.room);
}

void user_store::drop_room(std::string_view room) {
  auto* s = impl_->drop_room.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, room);
  impl_->run(s, "forgetting room " + std::string(room));
}

std::vector<stored_room> user_store::all_rooms() const {
  auto* s = impl_->select_rooms.get();
  detail::statement_use use(s);
  std::vector<stored_room> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.push_back({detail::column_text(s, 0), detail::column_text(s, 1), detail::column_text(s, 2)});
  if (rc != SQLITE_DONE) impl_->fail("reading the rooms");
  return out;
}

}  // namespace junction::users
