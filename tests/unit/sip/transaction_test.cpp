#include "sip/transaction.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

using namespace std::chrono_literals;

shared_bytes bytes(const char* text) { return std::make_shared<const std::string>(text); }

// Drives a transaction's timers through `span` of simulated time, collecting every send.
template <class Tx>
std::vector<std::pair<std::chrono::milliseconds, shared_bytes>> run_timers(Tx& tx, tx_clock::time_point start,
                                                                         std::chrono::milliseconds span,
                                                                         bool* timed_out = nullptr) {
  std::vector<std::pair<std::chrono::milliseconds, shared_bytes>> sent;
  for (int guard = 0; guard < 1000; ++guard) {
    auto at = tx.deadline();
    if (!at || *at > start + span) break;
    tx_effects e = tx.on_timer(*at);
    for (auto& b : e.send) sent.emplace_back(std::chrono::duration_cast<std::chrono::milliseconds>(*at - start), b);
    if (e.timed_out && timed_out) *timed_out = true;
  }
  return sent;
}

const tx_clock::time_point t0{100s};

TEST(ClientTransaction, InviteRetransmitsWithDoublingIntervalsThenTimesOut) {
  client_transaction tx(true, false, timer_values{}, bytes("INVITE"));
  EXPECT_EQ(tx.start(t0).send.size(), 1u);
  bool timed_out = false;
  auto sent = run_timers(tx, t0, 40s, &timed_out);
  // Timer A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; Timer B at 32 s ends it.
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[0].first, 500ms);
  EXPECT_EQ(sent[1].first, 1500ms);
  EXPECT_EQ(sent[5].first, 31500ms);
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(tx.state(), tx_state::terminated);
}

TEST(ClientTransaction, InviteNon2xxIsAckedAndRetransmittedFinalsReAcked) {
  client_transaction tx(true, false, timer_values{}, bytes("INVITE"));
  tx.start(t0);
  auto ringing = tx.on_response(180, t0 + 100ms);
  EXPECT_TRUE(ringing.deliver);
  EXPECT_EQ(tx.state(), tx_state::proceeding);
  EXPECT_TRUE(run_timers(tx, t0, 60s).empty());  // no retransmissions, no timeout once proceeding
  auto busy = tx.on_response(486, t0 + 1s);
  EXPECT_TRUE(busy.deliver);
  ASSERT_TRUE(busy.needs_ack);
  EXPECT_EQ(tx.send_ack(bytes("ACK")).send.size(), 1u);
  auto again = tx.on_response(486, t0 + 2s);
  EXPECT_FALSE(again.deliver);
  ASSERT_EQ(again.effects.send.size(), 1u);
  EXPECT_EQ(*again.effects.send[0], "ACK");
  bool timed_out = false;
  run_timers(tx, t0, 40s, &timed_out);  // Timer D (32 s)
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(tx.state(), tx_state::terminated);
}

TEST(ClientTransaction, Invite2xxFromSeveralForksAreAllDelivered) {
  client_transaction tx(true, false, timer_values{}, bytes("INVITE"));
  tx.start(t0);
  EXPECT_TRUE(tx.on_response(200, t0 + 1s).deliver);
  EXPECT_EQ(tx.state(), tx_state::accepted);
  EXPECT_TRUE(tx.on_response(200, t0 + 2s).deliver);
  EXPECT_FALSE(tx.on_response(180, t0 + 2s).deliver);
}

TEST(ClientTransaction, NonInviteCapsRetransmitsAtT2) {
  client_transaction tx(false, false, timer_values{}, bytes("OPTIONS"));
  tx.start(t0);
  bool timed_out = false;
  auto sent = run_timers(tx, t0, 40s, &timed_out);
  // E: 0.5, 1.5, 3.5, 7.5, then every 4 s (11.5, 15.5, ...), F at 32 s.
  ASSERT_GE(sent.size(), 6u);
  EXPECT_EQ(sent[3].first, 7500ms);
  EXPECT_EQ(sent[4].first, 11500ms);
  EXPECT_TRUE(timed_out);
}

TEST(ClientTransaction, ReliableTransportsDoNotRetransmit) {
  client_transaction tx(false, true, timer_values{}, bytes("OPTIONS"));
  tx.start(t0);
  bool timed_out = false;
  EXPECT_TRUE(run_timers(tx, t0, 40s, &timed_out).empty());
  EXPECT_TRUE(timed_out);
}

TEST(ServerTransaction, InviteRetransmissionsGetTheLastResponse) {
  server_transaction tx(true, false, timer_values{});
  EXPECT_TRUE(tx.on_retransmission().send.empty());
  tx.respond(100, bytes("100"), t0);
  auto again = tx.on_retransmission();
  ASSERT_EQ(again.send.size(), 1u);
  EXPECT_EQ(*again.send[0], "100");
}

TEST(ServerTransaction, InviteFinalIsResentUntilAcked) {
  server_transaction tx(true, false, timer_values{});
  tx.respond(404, bytes("404"), t0);
  EXPECT_EQ(tx.state(), tx_state::completed);
  auto sent = run_timers(tx, t0, 3600ms);
  // G: 0.5, 1.5, 3.5 s.
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].first, 3500ms);
  tx.on_ack(t0 + 3600ms);
  EXPECT_EQ(tx.state(), tx_state::confirmed);
  EXPECT_TRUE(run_timers(tx, t0 + 3600ms, 10s).empty());  // I ends it quietly
  EXPECT_EQ(tx.state(), tx_state::terminated);
}

TEST(ServerTransaction, InviteWithoutAckTimesOut) {
  server_transaction tx(true, false, timer_values{});
  tx.respond(486, bytes("486"), t0);
  bool timed_out = false;
  auto sent = run_timers(tx, t0, 40s, &timed_out);
  EXPECT_TRUE(timed_out);
  // G doubles to T2 and stays there: 0.5 1.5 3.5 7.5 11.5 ... 31.5
  EXPECT_EQ(sent.back().first, 31500ms);
}

TEST(ServerTransaction, Invite2xxMovesToAcceptedWhichAbsorbs) {
  server_transaction tx(true, false, timer_values{});
  tx.respond(180, bytes("180"), t0);
  tx.respond(200, bytes("200a"), t0 + 1s);
  EXPECT_EQ(tx.state(), tx_state::accepted);
  EXPECT_TRUE(tx.on_retransmission().send.empty());
  EXPECT_EQ(tx.respond(200, bytes("200b"), t0 + 2s).send.size(), 1u);  // another fork's 2xx
  EXPECT_TRUE(tx.respond(486, bytes("486"), t0 + 2s).send.empty());
  run_timers(tx, t0, 40s);
  EXPECT_EQ(tx.state(), tx_state::terminated);
}

TEST(ServerTransaction, NonInviteAnswersRetransmissionsUntilTimerJ) {
  server_transaction tx(false, false, timer_values{});
  EXPECT_TRUE(tx.on_retransmission().send.empty());  // Trying absorbs
  tx.respond(200, bytes("200"), t0);
  EXPECT_EQ(tx.on_retransmission().send.size(), 1u);
  EXPECT_TRUE(tx.respond(500, bytes("500"), t0).send.empty());  // one final only
  run_timers(tx, t0, 40s);
  EXPECT_EQ(tx.state(), tx_state::terminated);
}

}  // namespace
}  // namespace junction::sip
