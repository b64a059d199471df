// The user store behind its worker, with a cache per shard (users/user_directory.hpp): lookups
// answered from memory, misses asked of the worker without holding the shard, writes queued,
// and changes by another process noticed.
#include "users/user_directory.hpp"

#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "tests/unit/support/shard_loop.hpp"

namespace junction::users {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct DirectoryTest : ::testing::Test, junction::testing::shard_loop {
  std::string path;
  std::unique_ptr<user_directory> directory;

  void SetUp() override {
    path = (std::filesystem::temp_directory_path() /
            ("junction-directory-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite"))
               .string();
    std::filesystem::remove(path);
    open();
  }
  void TearDown() override {
    directory.reset();
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  void open(std::chrono::milliseconds delay = {}) {
    directory.reset();
    directory = std::make_unique<user_directory>(path, runtime_of_home(), delay);
  }
  runtime& runtime_of_home() { return home().owner(); }
  // Another process's edit (`junction users add` while the server runs).
  void add_elsewhere(const char* name, const char* password) { user_store(path).add(name, "example.com", password); }

  // Fetches and waits for the answer; what the cache says then.
  cached fetched(const char* name) {
    bool done = false;
    directory->fetch_user(0, name, "example.com", [&] { done = true; });
    EXPECT_TRUE(run_until([&] { return done; }));
    return directory->find(0, name, "example.com");
  }
};

TEST_F(DirectoryTest, AMissIsAskedOfTheWorkerAndThenAnsweredFromMemory) {
  add_elsewhere("alice", "secret");
  EXPECT_EQ(directory->find(0, "alice", "example.com"), cached::unknown);
  EXPECT_EQ(fetched("alice"), cached::found);
  const user_record* record = nullptr;
  EXPECT_EQ(directory->find(0, "alice", "example.com", &record), cached::found);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->username, "alice");
  EXPECT_EQ(record->ha1_md5.size(), 32u);
  EXPECT_EQ(fetched("nobody"), cached::absent);
}

TEST_F(DirectoryTest, LookupsOfOneKeyInFlightAreAskedOnce) {
  add_elsewhere("alice", "secret");
  int answered = 0;
  for (int i = 0; i < 3; ++i) directory->fetch_user(0, "alice", "example.com", [&] { ++answered; });
  EXPECT_TRUE(run_until([&] { return answered == 3; }));
}

TEST_F(DirectoryTest, AUserAddedByAnotherProcessIsFoundSoon) {
  EXPECT_EQ(fetched("bob"), cached::absent);
  add_elsewhere("bob", "pw");
  // "No such user" is believed for a second at most, and the worker notices the change sooner.
  EXPECT_TRUE(run_until([&] { return directory->find(0, "bob", "example.com") == cached::unknown; }));
  EXPECT_EQ(fetched("bob"), cached::found);
}

TEST_F(DirectoryTest, APasswordChangedElsewhereEmptiesTheCache) {
  add_elsewhere("carol", "one");
  ASSERT_EQ(fetched("carol"), cached::found);
  const user_record* before = nullptr;
  directory->find(0, "carol", "example.com", &before);
  const std::string old_ha1 = before->ha1_md5;
  add_elsewhere("carol", "two");
  EXPECT_TRUE(run_until([&] { return directory->find(0, "carol", "example.com") == cached::unknown; }));
  ASSERT_EQ(fetched("carol"), cached::found);
  const user_record* after = nullptr;
  directory->find(0, "carol", "example.com", &after);
  EXPECT_NE(after->ha1_md5, old_ha1);
}

TEST_F(DirectoryTest, ContactListsAreCachedToo) {
  add_elsewhere("dave", "pw");
  user_store(path).add_contact("dave", "example.com", "erin@example.com");
  EXPECT_EQ(directory->has_contact(0, "dave", "example.com", "erin@example.com"), cached::unknown);
  bool done = false;
  directory->fetch_contacts(0, "dave", "example.com", [&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(directory->has_contact(0, "dave", "example.com", "erin@example.com"), cached::found);
  EXPECT_EQ(directory->has_contact(0, "dave", "example.com", "frank@example.com"), cached::absent);
}

TEST_F(DirectoryTest, ChangesFromACoroutineGoToTheWorkerAndEmptyTheCaches) {
  add_elsewhere("gina", "pw");
  ASSERT_EQ(fetched("gina"), cached::found);
  bool removed = false, done = false;
  asio::co_spawn(
      io(),
      [&]() -> asio::awaitable<void> {
        removed = co_await directory->change(
            [](user_store& store) { return store.remove("gina", "example.com"); });
        done = true;
      },
      asio::detached);
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_TRUE(removed);
  EXPECT_TRUE(run_until([&] { return directory->find(0, "gina", "example.com") == cached::unknown; }));
  EXPECT_EQ(fetched("gina"), cached::absent);
}

TEST_F(DirectoryTest, StoreErrorsComeBackToTheCoroutine) {
  std::string error;
  bool done = false;
  asio::co_spawn(
      io(),
      [&]() -> asio::awaitable<void> {
        try {
          co_await directory->change([](user_store& store) { store.add("bad/name", "example.com", "pw"); });
        } catch (const std::exception& e) {
          error = e.what();
        }
        done = true;
      },
      asio::detached);
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_FALSE(error.empty());
}

TEST_F(DirectoryTest, WritesAreQueuedInOrder) {
  add_elsewhere("hank", "pw");
  directory->write("first", [](user_store& s) { s.keep_mail({"sip:hank@example.com", "a", "b", "text/plain", "1", 1}); });
  directory->write("second", [](user_store& s) { s.keep_mail({"sip:hank@example.com", "a", "b", "text/plain", "2", 2}); });
  directory->write("third", [](user_store& s) { s.drop_mail_before(2); });
  std::vector<kept_mail> mail;
  bool done = false;
  asio::co_spawn(
      io(),
      [&]() -> asio::awaitable<void> {
        mail = co_await directory->run([](user_store& s) { return s.all_mail(); });
        done = true;
      },
      asio::detached);
  ASSERT_TRUE(run_until([&] { return done; }));
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].body, "2");
}

TEST_F(DirectoryTest, ASlowStoreDoesNotHoldTheShard) {
  open(300ms);
  add_elsewhere("ivan", "pw");
  bool answered = false;
  directory->fetch_user(0, "ivan", "example.com", [&] { answered = true; });
  // The shard goes on with other work while the worker is still in the store.
  bool other = false;
  asio::post(io(), [&] { other = true; });
  ASSERT_TRUE(run_until([&] { return other; }));
  EXPECT_FALSE(answered);
  EXPECT_TRUE(run_until([&] { return answered; }));
  EXPECT_EQ(directory->find(0, "ivan", "example.com"), cached::found);
}

}  // namespace
}  // namespace junction::users
