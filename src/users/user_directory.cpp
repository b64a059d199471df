#include "users/user_directory.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"

namespace junction::users {
namespace {

using clock = std::chrono::steady_clock;
// How long "no such user" and "store unavailable" are believed, and how often the worker asks
// SQLite whether another process changed the file.
constexpr auto doubt_after = std::chrono::seconds(1);
constexpr auto check_every = std::chrono::milliseconds(500);
// A shard's cache past this many entries starts over (a guard, not an eviction policy).
constexpr std::size_t max_entries = 100'000;

std::string key_of(std::string_view name, std::string_view realm) {
  std::string key;
  key.reserve(name.size() + realm.size() + 1);
  key.append(realm).push_back('\0');
  key.append(name);
  return key;
}

}  // namespace

std::optional<user_address> parse_user_address(std::string_view text) {
  auto at = text.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  user_address a{std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
  for (auto& c : a.realm) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_valid_username(a.username) || !is_valid_realm(a.realm)) return std::nullopt;
  return a;
}

struct user_directory::shard_cache {
  struct user_entry {
    cached state = cached::unknown;
    user_record record;
    clock::time_point until = clock::time_point::max();
  };
  struct contacts_entry {
    cached state = cached::unknown;
    std::vector<std::string> contacts;  // sorted
    clock::time_point until = clock::time_point::max();
  };
  std::unordered_map<std::string, user_entry> users;
  std::unordered_map<std::string, contacts_entry> contacts;
  // Lookups in flight, by "u" or "c" + key, with who waits for each.
  std::unordered_map<std::string, std::vector<std::function<void()>>> waiting;

  void clear() {
    users.clear();
    contacts.clear();
  }
};

user_directory::user_directory(std::string path, runtime& rt, std::chrono::milliseconds delay)
    : path_(std::move(path)), rt_(rt), delay_(delay) {
  caches_ = std::make_unique<sharded<shard_cache>>(rt);
  // Before anything opens a connection: the file is created private (see create_private_file),
  // with its schema and WAL mode. A store that cannot be opened now is reported when it is
  // first needed.
  create_private_file(path_);
  try {
    user_store prepare(path_);
  } catch (const std::exception&) {
  }
  schedule_check();
}

user_directory::~user_directory() {
  *alive_ = false;
  workers_.stop();
}

user_store& user_directory::store() {
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  if (!store_) {
    store_ = std::make_unique<user_store>(path_);
    data_version_ = store_->data_version();  // what is read from now on is of this version or later
  }
  return *store_;
}

cached user_directory::find(unsigned shard, std::string_view username, std::string_view realm,
                            const user_record** record) {
  auto& cache = caches_->at(shard);
  auto it = cache.users.find(key_of(username, realm));
  if (it == cache.users.end()) return cached::unknown;
  if (clock::now() >= it->second.until) {
    cache.users.erase(it);
    return cached::unknown;
  }
  if (record && it->second.state == cached::found) *record = &it->second.record;
  return it->second.state;
}

cached user_directory::has_contact(unsigned shard, std::string_view username, std::string_view realm,
                                   std::string_view contact) {
  auto& cache = caches_->at(shard);
  auto it = cache.contacts.find(key_of(username, realm));
  if (it == cache.contacts.end()) return cached::unknown;
  if (clock::now() >= it->second.until) {
    cache.contacts.erase(it);
    return cached::unknown;
  }
  if (it->second.state != cached::found) return it->second.state;
  const auto& list = it->second.contacts;
  return std::binary_search(list.begin(), list.end(), contact) ? cached::found : cached::absent;
}

// Asks the worker for one cache entry: read(store, entry) there (a failure makes a `failed`
// entry, doubted after a second), then keep(cache, entry) on the shard and the waiters run.
// Lookups of one key in flight are asked once.
template <class Entry, class Read, class Keep>
void user_directory::ask(unsigned shard, std::string waiting, Read read, Keep keep, std::function<void()> then) {
  auto& waiters = caches_->at(shard).waiting[waiting];
  waiters.push_back(std::move(then));
  if (waiters.size() > 1) return;  // asked already
  workers_.post(0, [this, shard, waiting = std::move(waiting), read = std::move(read), keep = std::move(keep),
                    alive = alive_]() mutable {
    Entry entry;
    try {
      check_for_changes();
      read(store(), entry);
    } catch (const std::exception& e) {
      log::error("users: store {}: {}", path_, e.what());
      entry.state = cached::failed;
      entry.until = clock::now() + doubt_after;
    }
    rt_.post(shard, [this, shard, waiting = std::move(waiting), keep = std::move(keep), entry = std::move(entry),
                     alive = std::move(alive)]() mutable {
      if (!*alive) return;
      auto& cache = caches_->at(shard);
      keep(cache, std::move(entry));
      auto node = cache.waiting.extract(waiting);
      if (!node.empty())
        for (auto& w : node.mapped()) w();
    });
  });
}

void user_directory::fetch_user(unsigned shard, std::string username, std::string realm, std::function<void()> then) {
  auto key = key_of(username, realm);
  ask<shard_cache::user_entry>(
      shard, "u" + key,
      [username = std::move(username), realm = std::move(realm)](user_store& store, shard_cache::user_entry& entry) {
        auto found = store.find(username, realm);
        entry.state = found ? cached::found : cached::absent;
        if (found) entry.record = std::move(*found);
        else entry.until = clock::now() + doubt_after;
      },
      [key](shard_cache& cache, shard_cache::user_entry entry) {
        if (cache.users.size() >= max_entries) cache.users.clear();
        cache.users[key] = std::move(entry);
      },
      std::move(then));
}

void user_directory::fetch_contacts(unsigned shard, std::string username, std::string realm,
                                    std::function<void()> then) {
  auto key = key_of(username, realm);
  ask<shard_cache::contacts_entry>(
      shard, "c" + key,
      [username = std::move(username), realm = std::move(realm)](user_store& store, shard_cache::contacts_entry& entry) {
        entry.contacts = store.contacts(username, realm);
        std::sort(entry.contacts.begin(), entry.contacts.end());
        entry.state = cached::found;
      },
      [key](shard_cache& cache, shard_cache::contacts_entry entry) {
        if (cache.contacts.size() >= max_entries) cache.contacts.clear();
        cache.contacts[key] = std::move(entry);
      },
      std::move(then));
}

void user_directory::write(std::string what, std::function<void(user_store&)> fn) {
  workers_.post(0, [this, what = std::move(what), fn = std::move(fn)] {
    try {
      fn(store());
    } catch (const std::exception& e) {
      log::error("users: store {}, {}: {}", path_, what, e.what());
    }
  });
}

void user_directory::forget_everything() {
  caches_->invoke_on_all([alive = alive_](shard_cache& cache) {
    if (*alive) cache.clear();
  });
}

// On the worker: another process (`junction users ...`) changed the file since the last look.
void user_directory::check_for_changes() {
  if (!store_) return;  // nothing was read yet, so nothing cached can be stale
  auto now = store_->data_version();
  if (data_version_ != now) forget_everything();
  data_version_ = now;
}

// Twice a second shard 0 asks the worker to look; the worker does, off the shard.
void user_directory::schedule_check() {
  auto timer = std::make_shared<boost::asio::steady_timer>(rt_.at(0).context());
  timer->expires_after(check_every);
  timer->async_wait([this, timer, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    workers_.post(0, [this, alive] {
      if (!*alive) return;
      try {
        check_for_changes();
      } catch (const std::exception& e) {
        log::error("users: store {}: {}", path_, e.what());
      }
    });
    schedule_check();
  });
}

}  // namespace junction::users
