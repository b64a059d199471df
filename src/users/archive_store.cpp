// The message archive (XEP-0313, MAM) in the user store: each user's messages, sent and received,
// as stanzas, in the order the server handled them, and the page queries over them (XEP-0059).
#include <algorithm>

#include "users/user_store_impl.hpp"

namespace junction::users {

namespace {

void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// The sequence number of archived message `id` of `owner`, or nothing.
std::optional<std::int64_t> sequence_of(sqlite3* db, std::string_view owner, std::string_view id) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT seq FROM archive WHERE owner = ?1 AND id = ?2", -1, &raw, nullptr) != SQLITE_OK)
    throw user_store_error(std::string("archive: ") + sqlite3_errmsg(db));
  detail::statement_ptr s(raw);
  bind_text(raw, 1, owner);
  bind_text(raw, 2, id);
  if (sqlite3_step(raw) != SQLITE_ROW) return std::nullopt;
  return sqlite3_column_int64(raw, 0);
}

}  // namespace

void user_store::archive(const archived_message& m) {
  auto* s = impl_->insert_archive.get();
  detail::statement_use use(s);
  bind_text(s, 1, m.owner);
  bind_text(s, 2, m.id);
  sqlite3_bind_int64(s, 3, m.stamp);
  bind_text(s, 4, m.with_bare);
  bind_text(s, 5, m.with_full);
  bind_text(s, 6, m.stanza);
  if (sqlite3_step(s) != SQLITE_DONE) impl_->fail("archiving a message of " + m.owner);
}

archive_page user_store::query_archive(std::string_view owner, const archive_query& q) const {
  sqlite3* db = impl_->db.get();
  archive_page page;
  std::optional<std::int64_t> after, before;
  if (!q.after_id.empty()) {
    after = sequence_of(db, owner, q.after_id);
    if (!after) {
      page.unknown_id = true;
      return page;
    }
  }
  if (!q.before_id.empty()) {
    before = sequence_of(db, owner, q.before_id);
    if (!before) {
      page.unknown_id = true;
      return page;
    }
  }
  // What the filters select, whatever the page.
  std::string where = " WHERE owner = ?1";
  if (!q.with.empty()) where += q.with_is_full ? " AND with_full = ?2" : " AND with_bare = ?2";
  if (q.start) where += " AND stamp >= ?3";
  if (q.end) where += " AND stamp <= ?4";
  auto bind_filters = [&](sqlite3_stmt* s) {
    bind_text(s, 1, owner);
    if (!q.with.empty()) bind_text(s, 2, q.with);
    if (q.start) sqlite3_bind_int64(s, 3, *q.start);
    if (q.end) sqlite3_bind_int64(s, 4, *q.end);
  };
  auto prepare = [&](const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      throw user_store_error(std::string("archive: ") + sqlite3_errmsg(db));
    return detail::statement_ptr(raw);
  };
  {
    auto count = prepare("SELECT COUNT(*) FROM archive" + where);
    bind_filters(count.get());
    if (sqlite3_step(count.get()) == SQLITE_ROW) page.count = static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0));
  }
  // Backwards (a `before`, or the last page): the newest `max` before the point, then in order.
  const bool backwards = before.has_value() || q.last_page;
  std::string sql = "SELECT id, stamp, stanza FROM archive" + where;
  if (after) sql += " AND seq > ?5";
  if (before) sql += " AND seq < ?6";
  sql += backwards ? " ORDER BY seq DESC LIMIT ?7" : " ORDER BY seq ASC LIMIT ?7";
  auto select = prepare(sql);
  bind_filters(select.get());
  if (after) sqlite3_bind_int64(select.get(), 5, *after);
  if (before) sqlite3_bind_int64(select.get(), 6, *before);
  sqlite3_bind_int64(select.get(), 7, static_cast<std::int64_t>(q.max) + 1);
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    archived_message m;
    m.owner = std::string(owner);
    m.id = detail::column_text(select.get(), 0);
    m.stamp = sqlite3_column_int64(select.get(), 1);
    m.stanza = detail::column_text(select.get(), 2);
    page.messages.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) throw user_store_error(std::string("archive: ") + sqlite3_errmsg(db));
  // One more than asked for says the page is not the last in its direction.
  page.complete = page.messages.size() <= q.max;
  if (!page.complete) page.messages.pop_back();
  if (backwards) std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

std::size_t user_store::expire_archive(std::int64_t before) {
  auto* s = impl_->expire_archive.get();
  detail::statement_use use(s);
  sqlite3_bind_int64(s, 1, before);
  if (sqlite3_step(s) != SQLITE_DONE) impl_->fail("expiring the archive");
  return static_cast<std::size_t>(sqlite3_changes(impl_->db.get()));
}

std::size_t user_store::forget_archive(std::string_view owner) {
  auto* s = impl_->erase_archive.get();
  detail::statement_use use(s);
  impl_->bind(s, 1, owner);
  impl_->run(s, "forgetting the archive of " + std::string(owner));
  return static_cast<std::size_t>(sqlite3_changes(impl_->db.get()));
}

}  // namespace junction::users
