#pragma once
// The user store as the server's shards use it, with no disk on a shard: one worker thread owns
// the SQLite connection, and each shard keeps a cache of what it looked up, answered from memory.
//
// - A lookup the cache cannot answer is sent to the worker, and the caller carries on; the
//   answer is posted back to the shard, fills its cache and runs the caller's continuation
//   (typically: handle the request again). Lookups of one key in flight are asked once.
// - A user found stays cached; "no such user" and "store unavailable" are kept for a second, so
//   that a user added a moment later is found on the next try.
// - Writes (the users API, the offline mailbox) are queued to the worker; a write through here
//   empties every shard's cache, and so does a change another process made (`junction users`
//   while the server runs), which the worker notices by SQLite's data_version.
//
// find()/contacts()/fetch_*() are called on the shard they name; run() and write() from
// anywhere on a shard.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/sharded.hpp"
#include "core/worker_pool.hpp"
#include "users/user_store.hpp"

namespace junction {
class runtime;
}

namespace junction::users {

// "alice@example.com" -> {"alice", "example.com"}: how operators name a user. The realm is the
// domain the user belongs to, lowercased (SIP hosts compare case-insensitively; the store does
// not). Nothing when either part is not valid for the store.
struct user_address {
  std::string username;
  std::string realm;
};
std::optional<user_address> parse_user_address(std::string_view text);

// What a shard's cache knows of a key.
enum class cached { found, absent, failed, unknown };

class user_directory {
 public:
  // Opens nothing yet on the caller's thread but the file itself (created private, with its
  // schema, before anything else opens it). `delay`: how long the worker waits before each job,
  // for tests that show a slow store does not hold the shards up (JUNCTION_TEST_STORE_DELAY_MS).
  user_directory(std::string path, runtime& rt, std::chrono::milliseconds delay = {});
  // Stops the worker. Destroy it after the runtime's shards stopped and before the runtime goes
  // (what it posts to the shards refers to it).
  ~user_directory();
  user_directory(const user_directory&) = delete;
  user_directory& operator=(const user_directory&) = delete;

  const std::string& path() const noexcept { return path_; }

  // On shard `shard`: the user as its cache knows it (the record when found).
  cached find(unsigned shard, std::string_view username, std::string_view realm, const user_record** record = nullptr);
  // On shard `shard`: whether `contact` is on the user's contact list, as its cache knows it.
  cached has_contact(unsigned shard, std::string_view username, std::string_view realm, std::string_view contact);
  // On shard `shard`: asks the worker, fills the cache, then runs `then` there (whatever the
  // answer). `then` must check that what it refers to still exists.
  void fetch_user(unsigned shard, std::string username, std::string realm, std::function<void()> then);
  void fetch_contacts(unsigned shard, std::string username, std::string realm, std::function<void()> then);

  // From a coroutine on a shard: `fn(user_store&)` on the worker, its result (or exception) back
  // here. For the control plane (the users API, the gateway's login check).
  template <class F>
  auto run(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&, user_store&>> {
    co_return co_await on_worker(workers_, 0, [this, fn = std::move(fn)]() mutable { return fn(store()); });
  }
  // A change from a coroutine: like run(), then every shard's cache is emptied.
  template <class F>
  auto change(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&, user_store&>> {
    using result = std::invoke_result_t<F&, user_store&>;
    if constexpr (std::is_void_v<result>) {
      co_await run(std::move(fn));
      forget_everything();
    } else {
      auto value = co_await run(std::move(fn));
      forget_everything();
      co_return value;
    }
  }
  // Queues a write; a failure is logged with `what`.
  void write(std::string what, std::function<void(user_store&)> fn);

  // Empties every shard's cache (posted to each).
  void forget_everything();

 private:
  struct shard_cache;
  template <class Entry, class Read, class Keep>
  void ask(unsigned shard, std::string waiting, Read read, Keep keep, std::function<void()> then);
  user_store& store();  // on the worker only
  void check_for_changes();
  void schedule_check();

  std::string path_;
  runtime& rt_;
  std::chrono::milliseconds delay_;
  std::unique_ptr<sharded<shard_cache>> caches_;     // one per shard
  std::unique_ptr<user_store> store_;                 // the worker's
  std::optional<std::int64_t> data_version_;          // the worker's
  worker_pool workers_{1, 0};
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace junction::users
