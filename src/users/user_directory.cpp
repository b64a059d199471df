#include "users/user_directory.hpp"

#include <cctype>

namespace junction::users {

std::optional<user_address> parse_user_address(std::string_view text) {
  auto at = text.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  user_address a{std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
  for (auto& c : a.realm) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_valid_username(a.username) || !is_valid_realm(a.realm)) return std::nullopt;
  return a;
}

user_directory::user_directory(std::string path, unsigned shards)
    : path_(std::move(path)), stores_(shards) {
  // Before any shard opens a connection: creating the file later, from one shard, could race
  // with another shard's connection (see create_private_file).
  create_private_file(path_);
  // And the schema and WAL mode too (both stay in the file): shards opening a new store at the
  // same moment would otherwise both try to switch it to WAL, and SQLite answers one of them
  // "database is locked" without waiting. A store that cannot be opened now is reported by the
  // shard that next needs it.
  try {
    user_store prepare(path_);
  } catch (const std::exception&) {
  }
}

user_directory::~user_directory() = default;

user_store& user_directory::on_shard(unsigned index) {
  auto& slot = stores_.at(index);
  if (!slot) slot = std::make_unique<user_store>(path_);
  return *slot;
}

}  // namespace junction::users
