#include "webrtc/port_table.hpp"

#include <gtest/gtest.h>

#include "webrtc/stun.hpp"

namespace junction::webrtc {
namespace {

using endpoint = port_table::endpoint;

const endpoint alice_at{boost::asio::ip::make_address("192.0.2.7"), 50000};
const endpoint bob_at{boost::asio::ip::make_address("2001:db8::7"), 50000};
const endpoint stranger_at{boost::asio::ip::make_address("203.0.113.66"), 1234};

std::vector<std::uint8_t> check_for(std::string_view username) {
  return stun::message_writer(stun::binding, stun::message_class::request, stun::new_transaction_id())
      .add(stun::attr::username, username)
      .finish("whatever", true);
}

const std::vector<std::uint8_t> srtp = {0x80, 111, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 9, 9};
const std::vector<std::uint8_t> dtls = {22, 0xfe, 0xfd, 0, 0};

TEST(PortTable, ChecksFindTheirPeerByUfragEverythingElseByAddress) {
  port_table t;
  ASSERT_TRUE(t.add("Aufrag01", 1));
  ASSERT_TRUE(t.add("Bufrag02", 2));
  EXPECT_FALSE(t.add("Aufrag01", 3));  // taken
  EXPECT_EQ(t.route(check_for("Aufrag01:x"), stranger_at), 1u);
  EXPECT_EQ(t.route(check_for("Bufrag02:y"), alice_at), 2u);
  EXPECT_FALSE(t.route(check_for("Cufrag03:z"), alice_at));
  EXPECT_FALSE(t.route(check_for("no-colon"), alice_at));
  // Media and DTLS: only from an address a peer's check was answered from.
  EXPECT_FALSE(t.route(srtp, alice_at));
  t.learn(alice_at, 1);
  t.learn(bob_at, 2);
  EXPECT_EQ(t.route(srtp, alice_at), 1u);
  EXPECT_EQ(t.route(dtls, bob_at), 2u);
  EXPECT_FALSE(t.route(srtp, stranger_at));
  EXPECT_EQ(t.addresses(), 2u);
}

TEST(PortTable, TheLatestAnsweredCheckOwnsAnAddress) {
  port_table t;
  t.add("Aufrag01", 1);
  t.add("Bufrag02", 2);
  t.learn(alice_at, 1);
  t.learn(alice_at, 2);
  EXPECT_EQ(t.route(srtp, alice_at), 2u);
  t.learn(stranger_at, 9);  // no such peer: nothing learned
  EXPECT_FALSE(t.route(srtp, stranger_at));
}

TEST(PortTable, ARemovedPeerLeavesNothingBehind) {
  port_table t;
  t.add("Aufrag01", 1);
  t.learn(alice_at, 1);
  t.learn(bob_at, 1);
  t.remove(1);
  EXPECT_EQ(t.peers(), 0u);
  EXPECT_EQ(t.addresses(), 0u);
  EXPECT_FALSE(t.route(check_for("Aufrag01:x"), alice_at));
  EXPECT_FALSE(t.route(srtp, bob_at));
  EXPECT_TRUE(t.add("Aufrag01", 4));  // the ufrag is free again
}

TEST(PortTable, ReadsTheLocalPartOfAUsername) {
  EXPECT_EQ(username_local_part(check_for("abc:def")), "abc");
  EXPECT_EQ(username_local_part(srtp), "");
  EXPECT_EQ(username_local_part(check_for("")), "");
}

}  // namespace
}  // namespace junction::webrtc
