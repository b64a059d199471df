#pragma once
// The user store as the server's shards use it: one SQLite connection per shard, opened by
// that shard when it first needs one, so lookups never cross threads and need no lock (SQLite's
// WAL mode lets every connection read while the command line or the API writes).
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "users/user_store.hpp"

namespace junction::users {

// "alice@example.com" -> {"alice", "example.com"}: how operators name a user. The realm is the
// domain the user belongs to, lowercased (SIP hosts compare case-insensitively; the store does
// not). Nothing when either part is not valid for the store.
struct user_address {
  std::string username;
  std::string realm;
};
std::optional<user_address> parse_user_address(std::string_view text);

class user_directory {
 public:
  user_directory(std::string path, unsigned shards);
  ~user_directory();
  user_directory(const user_directory&) = delete;
  user_directory& operator=(const user_directory&) = delete;

  // This shard's connection. Call only from shard `index`'s thread. Throws user_store_error
  // when the database cannot be opened (and tries again on the next call).
  user_store& on_shard(unsigned index);
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::vector<std::unique_ptr<user_store>> stores_;  // slot i belongs to shard i
};

}  // namespace junction::users
