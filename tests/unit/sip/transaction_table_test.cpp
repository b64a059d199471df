#include "sip/transaction_table.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace junction::sip {
namespace {

using namespace std::chrono_literals;

shared_bytes bytes(const char* text) { return std::make_shared<const std::string>(text); }
const tx_clock::time_point t0{100s};

struct client_entry {
  client_transaction tx;
  std::string peer;
};
struct server_entry {
  server_transaction tx;
};
using table = transaction_table<client_entry, server_entry>;

// Runs the table's timers until `until`, as a shard's timer would: waking at each deadline.
std::vector<std::string> run(table& t, tx_clock::time_point until, std::vector<std::string>* timeouts = nullptr) {
  std::vector<std::string> fired;
  for (int guard = 0; guard < 1000; ++guard) {
    auto at = t.deadline();
    if (!at || *at > until) break;
    t.run_timers(
        *at,
        [&](const std::string& key, client_entry& e, const tx_effects& fx) {
          fired.push_back(key + (fx.send.empty() ? "" : " resend") + " to " + e.peer);
          if (fx.timed_out && timeouts) timeouts->push_back(key);
        },
        [&](const std::string& key, server_entry&, const tx_effects& fx) {
          fired.push_back(key + (fx.send.empty() ? "" : " resend"));
        });
  }
  return fired;
}

TEST(TransactionTable, TimersFireInTimeOrderAcrossTransactions) {
  table t;
  auto& a = t.put_client("a", {client_transaction(false, false, timer_values{}, bytes("A")), "p1"});
  a.tx.start(t0);
  t.touched_client("a");
  auto& b = t.put_client("b", {client_transaction(false, false, timer_values{1000ms}, bytes("B")), "p2"});
  b.tx.start(t0 + 100ms);
  t.touched_client("b");
  ASSERT_EQ(t.deadline(), t0 + 500ms);
  auto fired = run(t, t0 + 1200ms);
  // a at 0.5 s and 1.5 s (T1 = 500 ms), b at 1.1 s (T1 = 1 s).
  EXPECT_EQ(fired, (std::vector<std::string>{"a resend to p1", "b resend to p2"}));
  EXPECT_EQ(t.deadline(), t0 + 1500ms);
}

TEST(TransactionTable, ATimedOutTransactionIsReportedAndGoes) {
  table t;
  auto& a = t.put_client("a", {client_transaction(false, false, timer_values{}, bytes("A")), "p"});
  a.tx.start(t0);
  t.touched_client("a");
  std::vector<std::string> timeouts;
  run(t, t0 + 40s, &timeouts);
  EXPECT_EQ(timeouts, std::vector<std::string>{"a"});  // Timer F at 64*T1
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.deadline());
}

TEST(TransactionTable, AResponseMovesTheDeadlineAndTheOldOneIsSkipped) {
  table t;
  auto& a = t.put_client("a", {client_transaction(false, true, timer_values{}, bytes("A")), "p"});
  a.tx.start(t0);
  t.touched_client("a");  // reliable: only Timer F (32 s)
  ASSERT_EQ(t.deadline(), t0 + 32s);
  auto r = t.client("a")->tx.on_response(200, t0 + 1s);
  EXPECT_TRUE(r.deliver);
  t.touched_client("a");  // reliable non-INVITE: Timer K is 0, terminated at its next timer
  std::vector<std::string> timeouts;
  run(t, t0 + 40s, &timeouts);
  EXPECT_TRUE(timeouts.empty());  // the old Timer F deadline did not fire
  EXPECT_EQ(t.size(), 0u);
}

TEST(TransactionTable, ServersAbsorbAndEndAfterTheirTimers) {
  table t;
  auto& s = t.put_server("s", {server_transaction(false, false, timer_values{})});
  auto fx = s.tx.respond(200, bytes("200"), t0);
  EXPECT_EQ(fx.send.size(), 1u);
  t.touched_server("s");
  EXPECT_EQ(t.server("s")->tx.on_retransmission().send.size(), 1u);
  EXPECT_EQ(t.deadline(), t0 + 32s);  // Timer J
  run(t, t0 + 33s);
  EXPECT_EQ(t.server("s"), nullptr);
}

TEST(TransactionTable, RetransmissionsWakeOnTheFineGridAndEndsOnTheCoarseOne) {
  table t;
  const tx_clock::time_point start{100s + 7ms};
  // A server transaction answered at `start`: only Timer J, 32 s later, which only ends it.
  t.put_server("s", {server_transaction(false, false, timer_values{})}).tx.respond(200, bytes("200"), start);
  t.touched_server("s");
  EXPECT_FALSE(t.server("s")->tx.deadline_resends());
  EXPECT_EQ(t.deadline(), start + 32s);                     // the exact time
  EXPECT_EQ(t.wake_at(20ms, 500ms), tx_clock::time_point{132500ms});  // up to the 500 ms grid
  // A client transaction over UDP sent 3 ms later: Timer E at 500 ms is a retransmission.
  auto& c = t.put_client("c", {client_transaction(false, false, timer_values{}, bytes("C")), "p"});
  c.tx.start(start + 3ms);
  t.touched_client("c");
  EXPECT_TRUE(c.tx.deadline_resends());
  EXPECT_EQ(t.deadline(), start + 503ms);
  EXPECT_EQ(t.wake_at(20ms, 500ms), tx_clock::time_point{100520ms});  // up to the 20 ms grid
  // Answered: its Timer K (T4, 5 s) ends it, and the old retransmission is stale.
  EXPECT_TRUE(t.client("c")->tx.on_response(200, start + 100ms).deliver);
  t.touched_client("c");
  EXPECT_FALSE(t.client("c")->tx.deadline_resends());
  EXPECT_EQ(t.deadline(), start + 5100ms);
  EXPECT_EQ(t.wake_at(20ms, 500ms), tx_clock::time_point{105500ms});
  // Fired at the coarse times, each timer still does its work, in time order.
  t.run_timers(tx_clock::time_point{105500ms}, [](const std::string&, client_entry&, const tx_effects&) {},
               [](const std::string&, server_entry&, const tx_effects&) {});
  EXPECT_EQ(t.client("c"), nullptr);
  EXPECT_NE(t.server("s"), nullptr);
  t.run_timers(tx_clock::time_point{132500ms}, [](const std::string&, client_entry&, const tx_effects&) {},
               [](const std::string&, server_entry&, const tx_effects&) {});
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.wake_at(20ms, 500ms));
}

TEST(TransactionTable, CallbacksMayAddTransactions) {
  table t;
  auto& a = t.put_client("a", {client_transaction(false, false, timer_values{}, bytes("A")), "p"});
  a.tx.start(t0);
  t.touched_client("a");
  bool added = false;
  t.run_timers(
      t0 + 500ms,
      [&](const std::string&, client_entry& e, const tx_effects&) {
        for (int i = 0; i < 100; ++i) {  // enough to rehash the map under the entry
          const auto key = fmt::format("n{}", i);
          auto& n = t.put_client(key, {client_transaction(false, false, timer_values{}, bytes("N")), "q"});
          n.tx.start(t0 + 500ms);
          t.touched_client(key);
        }
        e.peer = "still here";  // the entry survives the additions
        added = true;
      },
      [](const std::string&, server_entry&, const tx_effects&) {});
  EXPECT_TRUE(added);
  EXPECT_EQ(t.client("a")->peer, "still here");
  EXPECT_EQ(t.size(), 101u);
}

TEST(TransactionTable, ReplacingAnEntryKeepsOneDeadline) {
  table t;
  auto& a = t.put_client("a", {client_transaction(false, false, timer_values{}, bytes("A")), "p"});
  a.tx.start(t0);
  t.touched_client("a");
  auto& again = t.put_client("a", {client_transaction(false, false, timer_values{}, bytes("A2")), "p"});
  again.tx.start(t0 + 10s);
  t.touched_client("a");
  EXPECT_EQ(t.deadline(), t0 + 10s + 500ms);  // the first one's 0.5 s is stale
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace junction::sip
