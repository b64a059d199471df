#include "users/user_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "users/digest.hpp"

namespace junction::users {
namespace {

namespace fs = std::filesystem;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A database file of its own per test, removed with its -wal and -shm companions.
class UserStoreFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("junction-users-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "users.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string path_;
};

TEST(UserStore, AddFindRemove) {
  user_store store(":memory:");
  const std::int64_t before = now_seconds();
  store.add("alice", "example.com", "wonderland");
  const std::int64_t after = now_seconds();

  std::optional<user_record> r = store.find("alice", "example.com");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->username, "alice");
  EXPECT_EQ(r->realm, "example.com");
  EXPECT_EQ(r->ha1_md5, ha1(digest_algorithm::md5, "alice", "example.com", "wonderland"));
  EXPECT_EQ(r->ha1_sha256, ha1(digest_algorithm::sha256, "alice", "example.com", "wonderland"));
  EXPECT_GE(r->created, before);
  EXPECT_LE(r->created, after);

  // Names are exact: another realm, or another case, is another user.
  EXPECT_FALSE(store.find("alice", "example.org"));
  EXPECT_FALSE(store.find("Alice", "example.com"));

  EXPECT_TRUE(store.remove("alice", "example.com"));
  EXPECT_FALSE(store.find("alice", "example.com"));
  EXPECT_FALSE(store.remove("alice", "example.com"));
}

TEST(UserStore, AddReplaces) {
  user_store store(":memory:");
  store.add("bob", "example.com", "first");
  store.add("bob", "example.com", "second");
  ASSERT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.find("bob", "example.com")->ha1_sha256,
            ha1(digest_algorithm::sha256, "bob", "example.com", "second"));
}

TEST(UserStore, ListIsOrderedByRealmThenName) {
  user_store store(":memory:");
  EXPECT_TRUE(store.list().empty());
  store.add("zed", "a.example", "p");
  store.add("carol", "b.example", "p");
  store.add("alice", "b.example", "p");
  store.add("carol", "a.example", "p");
  std::vector<user_entry> users = store.list();
  ASSERT_EQ(users.size(), 4u);
  EXPECT_EQ(users[0].username + "@" + users[0].realm, "carol@a.example");
  EXPECT_EQ(users[1].username + "@" + users[1].realm, "zed@a.example");
  EXPECT_EQ(users[2].username + "@" + users[2].realm, "alice@b.example");
  EXPECT_EQ(users[3].username + "@" + users[3].realm, "carol@b.example");
  EXPECT_GT(users[0].created, 0);
}

TEST(UserStore, InvalidNamesAreRefused) {
  user_store store(":memory:");
  for (std::string_view bad : {"", "with space", "quote\"", "back\\slash", "percent%61",
                               "at@sign", "colon:", "new\nline", "\xc3\xa9t\xc3\xa9", "../x", "..",
                               ".hidden", "a/b", "q?x"}) {
    EXPECT_THROW(store.add(bad, "example.com", "p"), std::invalid_argument) << bad;
    EXPECT_THROW(store.remove(bad, "example.com"), std::invalid_argument) << bad;
    EXPECT_FALSE(store.find(bad, "example.com")) << bad;  // lookups never throw
  }
  EXPECT_THROW(store.add(std::string(65, 'a'), "example.com", "p"), std::invalid_argument);
  for (std::string_view bad : {"", "exa mple.com", "example.com:5060", "a\"b", "[::1]", "..", "a..b", ".example.com",
                               "example.com."})
    EXPECT_THROW(store.add("alice", bad, "p"), std::invalid_argument) << bad;
  EXPECT_THROW(store.add("alice", std::string(254, 'a'), "p"), std::invalid_argument);
  EXPECT_THROW(store.add("alice", "example.com", ""), std::invalid_argument);
  EXPECT_TRUE(store.list().empty());

  try {
    store.add("bad name", "example.com", "p");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bad name"), std::string::npos);
  }
}

TEST(UserStore, ValidNames) {
  EXPECT_TRUE(is_valid_username(std::string(64, 'a')));
  EXPECT_TRUE(is_valid_username("a-b_c.d!e~f*g'h(i)j&k=l+m$n,o;p"));
  EXPECT_TRUE(is_valid_username("+14155550100"));
  EXPECT_TRUE(is_valid_realm("sip.example.com"));
  EXPECT_TRUE(is_valid_realm("192.0.2.1"));
  EXPECT_FALSE(is_valid_realm("testrealm@host.com"));
}

TEST_F(UserStoreFile, NoPlaintextPasswordOnDisk) {
  const std::string password = "Zebra-Crossing-7781";
  {
    user_store store(path_);
    store.add("alice", "example.com", password);
    store.add("bob", "example.com", password);
    // While open, the rows may sit in the write-ahead log; check every file SQLite made.
    for (const auto& entry : fs::directory_iterator(dir_))
      EXPECT_EQ(read_bytes(entry.path()).find(password), std::string::npos) << entry.path();
  }
  const std::string bytes = read_bytes(path_);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(password), std::string::npos);
  // The derived secret is there, which shows the scan reads the rows at all.
  EXPECT_NE(bytes.find(ha1(digest_algorithm::sha256, "alice", "example.com", password)),
            std::string::npos);
}

TEST_F(UserStoreFile, PersistsAcrossReopen) {
  {
    user_store store(path_);
    store.add("alice", "example.com", "p1");
    store.add("bob", "example.com", "p2");
    EXPECT_TRUE(store.remove("bob", "example.com"));
  }
  user_store again(path_);
  ASSERT_EQ(again.list().size(), 1u);
  EXPECT_EQ(again.find("alice", "example.com")->ha1_md5,
            ha1(digest_algorithm::md5, "alice", "example.com", "p1"));
}

TEST_F(UserStoreFile, FileIsPrivateAndInWalMode) {
  { user_store store(path_); }
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The header's read/write format versions are 2 in WAL mode (SQLite file format §1.3).
  const std::string header = read_bytes(path_).substr(0, 20);
  ASSERT_EQ(header.size(), 20u);
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);
}

TEST_F(UserStoreFile, OpenErrorsThrowWithTheReason) {
  try {
    user_store store((dir_ / "missing-dir" / "users.db").string());
    FAIL() << "opened a database in a directory that does not exist";
  } catch (const user_store_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing-dir"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unable to open"), std::string::npos) << e.what();
  }
  // Not a database at all.
  std::ofstream(path_) << std::string(4096, 'x');
  EXPECT_THROW(user_store store(path_), user_store_error);
}

TEST_F(UserStoreFile, NewerSchemaIsRefused) {
  { user_store store(path_); }
  // Stand-in for a newer Junction having migrated the file.
  std::string bytes = read_bytes(path_);
  // user_version lives at byte offset 60 of the header, big-endian.
  bytes[60] = 0;
  bytes[61] = 0;
  bytes[62] = 0;
  bytes[63] = 99;
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  try {
    user_store store(path_);
    FAIL() << "opened a store with a newer schema";
  } catch (const user_store_error& e) {
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace junction::users

namespace junction::users {
namespace {

// Raw access to a store's file, to make it look like one an older Junction wrote.
class sqlite_file {
 public:
  explicit sqlite_file(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~sqlite_file() { sqlite3_close(db_); }
  void exec(const char* sql) { EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_); }

 private:
  sqlite3* db_ = nullptr;
};

TEST(UserStore, ContactListsBelongToOneUser) {
  user_store store(":memory:");
  store.add("alice", "example.com", "p");
  EXPECT_TRUE(store.add_contact("alice", "example.com", "bob@example.com"));
  EXPECT_FALSE(store.add_contact("alice", "example.com", "bob@example.com"));  // already there
  EXPECT_TRUE(store.add_contact("alice", "example.com", "carol@other.org"));
  EXPECT_EQ(store.contacts("alice", "example.com"),
            (std::vector<std::string>{"bob@example.com", "carol@other.org"}));
  EXPECT_TRUE(store.has_contact("alice", "example.com", "bob@example.com"));
  // Lists are not symmetric: bob shares nothing with alice until he says so.
  EXPECT_FALSE(store.has_contact("bob", "example.com", "alice@example.com"));
  EXPECT_TRUE(store.remove_contact("alice", "example.com", "bob@example.com"));
  EXPECT_FALSE(store.remove_contact("alice", "example.com", "bob@example.com"));
  EXPECT_FALSE(store.has_contact("alice", "example.com", "bob@example.com"));
  // A removed user takes the list along: a new user of the same name starts with none.
  EXPECT_TRUE(store.remove("alice", "example.com"));
  EXPECT_TRUE(store.contacts("alice", "example.com").empty());
  EXPECT_THROW(store.add_contact("bad name", "example.com", "bob@example.com"), std::invalid_argument);
}

TEST_F(UserStoreFile, MailboxOutlivesTheProcessAndEmptiesPerRecipient) {
  {
    user_store store(path_);
    store.keep_mail({"sip:bob@example.com", "<sip:alice@example.com>;tag=1", "<sip:bob@example.com>",
                     "text/plain", std::string("hi\0there", 8), 100});
    store.keep_mail({"sip:bob@example.com", "a", "b", "", "second", 200});
    store.keep_mail({"sip:carol@example.com", "a", "c", "text/plain", "for carol", 300});
  }
  user_store again(path_);
  auto all = again.all_mail();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].body, std::string("hi\0there", 8));  // bodies are bytes, not C strings
  EXPECT_EQ(all[0].sender, "<sip:alice@example.com>;tag=1");
  EXPECT_EQ(all[1].body, "second");
  again.drop_mail("sip:bob@example.com");
  ASSERT_EQ(again.all_mail().size(), 1u);
  EXPECT_EQ(again.all_mail()[0].recipient, "sip:carol@example.com");
  again.drop_mail_before(301);
  EXPECT_TRUE(again.all_mail().empty());
}

TEST_F(UserStoreFile, VersionOneStoresAreUpgradedInPlace) {
  {
    user_store store(path_);
    store.add("alice", "example.com", "p");
  }
  // Stand-in for a store written by the first schema: no contacts, no mailbox, version 1.
  {
    sqlite_file db(path_);
    db.exec("DROP TABLE roster; DROP TABLE roster_versions; DROP TABLE mailbox; DROP TABLE scram; "
            "PRAGMA user_version = 1;");
  }
  user_store again(path_);
  EXPECT_TRUE(again.find("alice", "example.com").has_value());
  EXPECT_TRUE(again.add_contact("alice", "example.com", "bob@example.com"));
  again.keep_mail({"sip:alice@example.com", "a", "b", "", "x", 1});
  EXPECT_EQ(again.all_mail().size(), 1u);
}

TEST_F(UserStoreFile, ScramKeysAreKeptPerMechanismReplacedAndRemoved) {
  {
    user_store store(path_);
    store.add("alice", "example.com", "pencil");
  }
  user_store store(path_);
  auto alice = store.find("alice", "example.com");
  ASSERT_TRUE(alice);
  for (auto [keys, hash, size] : {std::tuple{alice->scram_sha1, scram_hash::sha1, 20u},
                                  std::tuple{alice->scram_sha256, scram_hash::sha256, 32u}}) {
    EXPECT_EQ(keys.salt.size(), 16u);
    EXPECT_EQ(keys.iterations, scram_default_iterations);
    EXPECT_EQ(keys.stored_key.size(), size);
    // What the store keeps is what the password derives (and the password is not there).
    EXPECT_EQ(derive_scram_keys(hash, "pencil", keys.salt, keys.iterations).stored_key, keys.stored_key);
    EXPECT_EQ(derive_scram_keys(hash, "pencil", keys.salt, keys.iterations).server_key, keys.server_key);
  }
  EXPECT_EQ(read_bytes(path_).find("pencil"), std::string::npos);
  // A new password: new salts, keys that the old password no longer derives.
  store.add("alice", "example.com", "crayon");
  auto again = store.find("alice", "example.com");
  EXPECT_NE(again->scram_sha256.salt, alice->scram_sha256.salt);
  EXPECT_EQ(derive_scram_keys(scram_hash::sha256, "crayon", again->scram_sha256.salt, 4096).stored_key,
            again->scram_sha256.stored_key);
  EXPECT_TRUE(store.remove("alice", "example.com"));
  store.add("alice", "other.org", "x");  // the same name in another realm has keys of its own
  EXPECT_FALSE(store.find("alice", "example.com"));
  EXPECT_FALSE(store.find("alice", "other.org")->scram_sha1.empty());
}

TEST_F(UserStoreFile, VersionTwoStoresGainTheScramTable) {
  {
    user_store store(path_);
    store.add("alice", "example.com", "p");
  }
  {
    sqlite_file db(path_);
    db.exec("DROP TABLE scram; PRAGMA user_version = 2;");
  }
  user_store again(path_);
  auto alice = again.find("alice", "example.com");
  ASSERT_TRUE(alice);
  EXPECT_TRUE(alice->scram_sha256.empty());  // added before SCRAM keys: a new add gives it some
  again.add("alice", "example.com", "p");
  EXPECT_FALSE(again.find("alice", "example.com")->scram_sha256.empty());
}

TEST_F(UserStoreFile, VersionThreeContactListsBecomeRosterItems) {
  { user_store store(path_); }
  {
    sqlite_file db(path_);
    db.exec("DROP TABLE roster; DROP TABLE roster_versions; "
            "CREATE TABLE contacts (username TEXT NOT NULL, realm TEXT NOT NULL, contact TEXT NOT NULL, "
            "PRIMARY KEY (username, realm, contact)); "
            "INSERT INTO contacts VALUES ('alice', 'example.com', 'bob@example.com'); PRAGMA user_version = 3;");
  }
  user_store again(path_);
  EXPECT_TRUE(again.has_contact("alice", "example.com", "bob@example.com"));
  auto roster = again.roster("alice", "example.com");
  ASSERT_EQ(roster.size(), 1u);
  EXPECT_TRUE(roster[0].from);
  EXPECT_FALSE(roster[0].to);
}

TEST(UserStore, RostersKeepItemsAndRaiseTheirVersion) {
  user_store store(":memory:");
  store.add("alice", "example.com", "p");
  EXPECT_EQ(store.roster_version("alice", "example.com"), 0);
  roster_item bob{"bob@example.com", "Bob", true, false, false, false, true, {"Friends", "Work"}, true};
  EXPECT_EQ(store.put_roster_item("alice", "example.com", bob), 1);
  EXPECT_EQ(store.find_roster_item("alice", "example.com", "bob@example.com"), bob);
  EXPECT_FALSE(store.has_contact("alice", "example.com", "bob@example.com"));  // to, not from
  // SIP's contact list is the "from" side of the same items.
  EXPECT_TRUE(store.add_contact("alice", "example.com", "bob@example.com"));
  EXPECT_TRUE(store.find_roster_item("alice", "example.com", "bob@example.com")->to);  // kept
  EXPECT_EQ(store.contacts("alice", "example.com"), std::vector<std::string>{"bob@example.com"});
  EXPECT_EQ(store.roster_version("alice", "example.com"), 2);
  EXPECT_TRUE(store.remove_contact("alice", "example.com", "bob@example.com"));
  EXPECT_EQ(store.roster("alice", "example.com").size(), 1u);  // still has "to" and a name
  EXPECT_EQ(store.remove_roster_item("alice", "example.com", "bob@example.com"), 4);
  EXPECT_EQ(store.remove_roster_item("alice", "example.com", "bob@example.com"), 4);  // nothing to remove
  EXPECT_TRUE(store.roster("alice", "example.com").empty());
  // A contact only SIP added goes when SIP removes it.
  EXPECT_TRUE(store.add_contact("alice", "example.com", "carol@example.com"));
  EXPECT_TRUE(store.remove_contact("alice", "example.com", "carol@example.com"));
  EXPECT_FALSE(store.find_roster_item("alice", "example.com", "carol@example.com"));
}

}  // namespace
}  // namespace junction::users

namespace junction::users {
namespace {

archived_message archived(std::string owner, std::string id, std::int64_t stamp, std::string with) {
  archived_message m;
  m.owner = std::move(owner);
  m.id = std::move(id);
  m.stamp = stamp;
  m.with_bare = with.substr(0, with.find('/'));
  m.with_full = with;
  m.stanza = "<message><body>" + m.id + "</body></message>";
  return m;
}

std::vector<std::string> ids(const archive_page& page) {
  std::vector<std::string> out;
  for (const auto& m : page.messages) out.push_back(m.id);
  return out;
}

TEST(UserStoreArchive, PagesForwardBackwardAndByFilter) {
  user_store store(":memory:");
  store.add("alice", "example.com", "pw");
  // Ten messages, alternately with bob (two resources) and carol, a second apart.
  for (int i = 0; i < 10; ++i)
    store.archive(archived("alice@example.com", "m" + std::to_string(i), 1000000LL * (i + 1),
                           i % 2 ? "carol@example.com/x" : (i % 4 ? "bob@example.com/phone" : "bob@example.com/desk")));
  store.archive(archived("bob@example.com", "other", 1, "alice@example.com/a"));
  store.archive(archived("alice@example.com", "m0", 99, "bob@example.com/desk"));  // the same id again: ignored

  archive_query all;
  all.max = 4;
  auto first = store.query_archive("alice@example.com", all);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"m0", "m1", "m2", "m3"}));
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.count, 10u);
  all.after_id = "m7";
  auto last = store.query_archive("alice@example.com", all);
  EXPECT_EQ(ids(last), (std::vector<std::string>{"m8", "m9"}));
  EXPECT_TRUE(last.complete);

  archive_query newest;
  newest.max = 3;
  newest.last_page = true;
  EXPECT_EQ(ids(store.query_archive("alice@example.com", newest)), (std::vector<std::string>{"m7", "m8", "m9"}));
  newest.last_page = false;
  newest.before_id = "m2";
  auto before = store.query_archive("alice@example.com", newest);
  EXPECT_EQ(ids(before), (std::vector<std::string>{"m0", "m1"}));
  EXPECT_TRUE(before.complete);

  archive_query bob;
  bob.with = "bob@example.com";
  EXPECT_EQ(ids(store.query_archive("alice@example.com", bob)), (std::vector<std::string>{"m0", "m2", "m4", "m6", "m8"}));
  bob.with = "bob@example.com/desk";
  bob.with_is_full = true;
  EXPECT_EQ(ids(store.query_archive("alice@example.com", bob)), (std::vector<std::string>{"m0", "m4", "m8"}));

  archive_query window;
  window.start = 3000000;
  window.end = 5000000;
  auto in_window = store.query_archive("alice@example.com", window);
  EXPECT_EQ(ids(in_window), (std::vector<std::string>{"m2", "m3", "m4"}));
  EXPECT_EQ(in_window.count, 3u);

  archive_query unknown;
  unknown.after_id = "nope";
  EXPECT_TRUE(store.query_archive("alice@example.com", unknown).unknown_id);
  unknown.after_id = "other";  // bob's, not alice's
  EXPECT_TRUE(store.query_archive("alice@example.com", unknown).unknown_id);

  EXPECT_EQ(store.expire_archive(3000000), 3u);  // m0, m1 and bob's "other"
  EXPECT_EQ(store.query_archive("alice@example.com", {}).count, 8u);
  store.remove("alice", "example.com");
  EXPECT_EQ(store.query_archive("alice@example.com", {}).count, 0u);
}

TEST(UserStoreProfiles, VcardsBlocklistsAndRoomsAreKeptAndGoWithTheirUser) {
  user_store store(":memory:");
  store.add("alice", "example.com", "pw");
  EXPECT_FALSE(store.vcard("alice@example.com").has_value());
  store.put_vcard("alice@example.com", "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>");
  store.put_vcard("alice@example.com", "<vCard xmlns='vcard-temp'><FN>B</FN></vCard>");
  EXPECT_EQ(store.vcard("alice@example.com"), "<vCard xmlns='vcard-temp'><FN>B</FN></vCard>");
  store.block("alice@example.com", "bob@example.com", true);
  store.block("alice@example.com", "evil.example", true);
  store.block("alice@example.com", "bob@example.com", true);
  EXPECT_EQ(store.blocklist("alice@example.com"), (std::vector<std::string>{"bob@example.com", "evil.example"}));
  store.block("alice@example.com", "bob@example.com", false);
  EXPECT_EQ(store.blocklist("alice@example.com"), (std::vector<std::string>{"evil.example"}));
  store.put_room({"room@conference.example.com", "name=x\n", "alice@example.com=owner\n"});
  store.put_room({"room@conference.example.com", "name=y\n", "alice@example.com=owner\n"});
  ASSERT_EQ(store.all_rooms().size(), 1u);
  EXPECT_EQ(store.all_rooms()[0].config, "name=y\n");
  store.remove("alice", "example.com");
  EXPECT_FALSE(store.vcard("alice@example.com").has_value());
  EXPECT_TRUE(store.blocklist("alice@example.com").empty());
  store.drop_room("room@conference.example.com");
  EXPECT_TRUE(store.all_rooms().empty());
}

TEST(UserStorePep, NodesAndItemsAreKeptInOrderReplacedDroppedAndGoWithTheirUser) {
  user_store store(":memory:");
  store.add("alice", "example.com", "pw");
  const std::string me = "alice@example.com";
  EXPECT_TRUE(store.pep_nodes(me).empty());
  store.put_pep_node(me, "urn:xmpp:bookmarks:1", "access=whitelist;max=1000;persist=1;last=0");
  store.put_pep_node(me, "urn:xmpp:avatar:metadata", "access=presence;max=1;persist=1;last=1");
  store.put_pep_item(me, "urn:xmpp:bookmarks:1", "a", "<item id='a'/>");
  store.put_pep_item(me, "urn:xmpp:bookmarks:1", "b", "<item id='b'/>");
  store.put_pep_item(me, "urn:xmpp:bookmarks:1", "a", "<item id='a'>again</item>");  // now the newest
  store.put_pep_item(me, "urn:xmpp:avatar:metadata", "x", "<item id='x'/>");
  store.put_pep_item("bob@example.com", "urn:xmpp:avatar:metadata", "y", "<item id='y'/>");
  auto nodes = store.pep_nodes(me);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[1].node, "urn:xmpp:bookmarks:1");
  EXPECT_EQ(nodes[1].config, "access=whitelist;max=1000;persist=1;last=0");
  ASSERT_EQ(nodes[1].items.size(), 2u);
  EXPECT_EQ(nodes[1].items[0].first, "b");
  EXPECT_EQ(nodes[1].items[1].second, "<item id='a'>again</item>");
  store.drop_pep_item(me, "urn:xmpp:bookmarks:1", "b");
  EXPECT_EQ(store.pep_nodes(me)[1].items.size(), 1u);
  store.drop_pep_items(me, "urn:xmpp:bookmarks:1");
  EXPECT_TRUE(store.pep_nodes(me)[1].items.empty());
  store.drop_pep_node(me, "urn:xmpp:avatar:metadata");
  nodes = store.pep_nodes(me);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node, "urn:xmpp:bookmarks:1");
  store.remove("alice", "example.com");
  EXPECT_TRUE(store.pep_nodes(me).empty());
}

TEST(UserStorePrivateXml, OneElementPerNamespaceMeasuredForgottenAndGoneWithItsUser) {
  user_store store(":memory:");
  store.add("alice", "example.com", "pw");
  const std::string me = "alice@example.com";
  EXPECT_FALSE(store.private_xml(me, "example:prefs"));
  store.put_private_xml(me, "example:prefs", "<prefs xmlns='example:prefs'/>");
  store.put_private_xml(me, "example:prefs", "<prefs xmlns='example:prefs'>2</prefs>");  // replaced
  store.put_private_xml(me, "storage:bookmarks", "<storage xmlns='storage:bookmarks'/>");
  store.put_private_xml("bob@example.com", "example:prefs", "<prefs xmlns='example:prefs'>bob</prefs>");
  EXPECT_EQ(store.private_xml(me, "example:prefs"), "<prefs xmlns='example:prefs'>2</prefs>");
  // What else alice keeps: the bookmarks' element, counted in bytes.
  EXPECT_EQ(store.private_xml_usage(me, "example:prefs"), std::make_pair(std::size_t{1}, std::size_t{36}));
  EXPECT_EQ(store.private_xml_usage(me, "other:ns").first, 2u);
  store.put_private_xml(me, "storage:bookmarks", "");  // empty: forgotten
  EXPECT_FALSE(store.private_xml(me, "storage:bookmarks"));
  store.remove("alice", "example.com");
  EXPECT_FALSE(store.private_xml(me, "example:prefs"));
  EXPECT_TRUE(store.private_xml("bob@example.com", "example:prefs"));
}

}  // namespace
}  // namespace junction::users
