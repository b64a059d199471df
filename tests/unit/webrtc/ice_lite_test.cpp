#include "webrtc/ice_lite.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace junction::webrtc {
namespace {

using namespace std::chrono_literals;
using clock = ice_lite_agent::clock;
using endpoint = ice_lite_agent::endpoint;

const ice_credentials ours{"Jlocal01", "local-password-0123456789"};
constexpr std::string_view peer_ufrag = "peer";
const endpoint browser{boost::asio::ip::make_address("192.0.2.7"), 50000};
const endpoint relay{boost::asio::ip::make_address("198.51.100.3"), 3478};

struct check_options {
  std::string username = "Jlocal01:peer";
  std::string password = ours.pwd;
  bool use_candidate = false;
  std::uint32_t priority = 1000;
  bool controlled = false;  // ICE-CONTROLLED instead of ICE-CONTROLLING
  bool fingerprint = true;
  std::function<void(stun::message_writer&)> more = nullptr;
};

// A browser's connectivity check.
std::vector<std::uint8_t> check(const check_options& o = {}) {
  stun::message_writer w(stun::binding, stun::message_class::request, stun::new_transaction_id());
  if (!o.username.empty()) w.add(stun::attr::username, o.username);
  w.add_u32(stun::attr::priority, o.priority);
  w.add_u64(o.controlled ? stun::attr::ice_controlled : stun::attr::ice_controlling, 42);
  if (o.use_candidate) w.add_flag(stun::attr::use_candidate);
  if (o.more) o.more(w);
  return w.finish(o.password.empty() ? std::nullopt : std::optional<std::string_view>(o.password), o.fingerprint);
}

stun::message_view view(const std::vector<std::uint8_t>& bytes) {
  std::error_code ec;
  auto m = stun::message_view::parse(bytes, ec);
  EXPECT_FALSE(ec) << ec.message();
  return m;
}

struct agent_test : ::testing::Test {
  clock::time_point t0 = clock::now();
  ice_lite_agent agent{ours, std::string(peer_ufrag), t0};

  ice_lite_agent::result feed(const std::vector<std::uint8_t>& bytes, const endpoint& from = browser,
                              clock::duration after = 0s) {
    return agent.on_stun(view(bytes), from, t0 + after);
  }
};

TEST_F(agent_test, AnswersAValidCheckWithItsSourceUnderOurPassword) {
  auto request = check();
  auto r = feed(request);
  EXPECT_EQ(r.what, ice_lite_agent::outcome::answered);
  EXPECT_FALSE(r.nominated);
  auto reply = view(r.reply);
  EXPECT_EQ(reply.kind(), stun::message_class::success);
  EXPECT_EQ(reply.id(), view(request).id());
  EXPECT_EQ(reply.xor_mapped_address(), browser);
  EXPECT_TRUE(reply.integrity_ok(ours.pwd));
  EXPECT_TRUE(reply.fingerprint_ok());
  EXPECT_TRUE(agent.proven(browser));
  EXPECT_FALSE(agent.proven(relay));
  EXPECT_FALSE(agent.selected());
  EXPECT_EQ(agent.stats().answered, 1u);
}

TEST_F(agent_test, TheNominatedPairOfHighestPriorityCarriesMedia) {
  auto r = feed(check({.use_candidate = true, .priority = 100}), relay);
  EXPECT_TRUE(r.nominated);
  EXPECT_EQ(agent.selected(), relay);
  r = feed(check({.use_candidate = true, .priority = 50}), browser);  // lower: not taken
  EXPECT_EQ(r.what, ice_lite_agent::outcome::answered);
  EXPECT_FALSE(r.nominated);
  EXPECT_EQ(agent.selected(), relay);
  r = feed(check({.use_candidate = true, .priority = 2000}), browser);
  EXPECT_TRUE(r.nominated);
  EXPECT_EQ(agent.selected(), browser);
  r = feed(check({.use_candidate = true, .priority = 2000}), browser);  // the same again: no change
  EXPECT_FALSE(r.nominated);
}

TEST_F(agent_test, WrongCredentialsGet401WithoutIntegrity) {
  for (const check_options& o : {check_options{.password = "not-the-password"}, check_options{.username = "Jlocal01:other"},
                                 check_options{.username = "Jlocal0:peer"}, check_options{.username = "someone:peer"}}) {
    auto r = feed(check(o));
    EXPECT_EQ(r.what, ice_lite_agent::outcome::refused) << o.username;
    auto reply = view(r.reply);
    EXPECT_EQ(reply.kind(), stun::message_class::error);
    ASSERT_TRUE(reply.error());
    EXPECT_EQ(reply.error()->first, 401);
    EXPECT_FALSE(reply.has_integrity());
  }
  EXPECT_EQ(agent.stats().unauthorized, 4u);
  EXPECT_FALSE(agent.proven(browser));
}

TEST_F(agent_test, ChecksWithoutCredentialsGet400) {
  auto r = feed(check({.username = ""}));
  ASSERT_TRUE(view(r.reply).error());
  EXPECT_EQ(view(r.reply).error()->first, 400);
  r = feed(check({.password = ""}));
  EXPECT_EQ(view(r.reply).error()->first, 400);
}

TEST_F(agent_test, UnknownRequiredAttributesGet420NamingThem) {
  auto r = feed(check({.more = [](stun::message_writer& w) { w.add(0x0019, std::string_view("\x11\0\0\0", 4)); }}));
  auto reply = view(r.reply);
  ASSERT_TRUE(reply.error());
  EXPECT_EQ(reply.error()->first, 420);
  auto unknown = reply.find(stun::attr::unknown_attributes);
  ASSERT_TRUE(unknown);
  ASSERT_EQ(unknown->size(), 2u);
  EXPECT_EQ((*unknown)[1], 0x19);
}

TEST_F(agent_test, APeerThatIsControlledToldOfTheRoleConflict) {
  auto r = feed(check({.use_candidate = true, .controlled = true}));
  auto reply = view(r.reply);
  ASSERT_TRUE(reply.error());
  EXPECT_EQ(reply.error()->first, 487);
  EXPECT_TRUE(reply.integrity_ok(ours.pwd));  // the request was authenticated: so is the answer
  EXPECT_FALSE(agent.selected());
}

TEST_F(agent_test, CorruptOrOtherMessagesGetNothing) {
  auto bad = check();
  bad[bad.size() - 1] ^= 0xff;  // the FINGERPRINT
  auto r = feed(bad);
  EXPECT_EQ(r.what, ice_lite_agent::outcome::ignored);
  EXPECT_TRUE(r.reply.empty());
  auto indication = stun::message_writer(stun::binding, stun::message_class::indication, stun::new_transaction_id()).finish({}, true);
  EXPECT_EQ(feed(indication).what, ice_lite_agent::outcome::ignored);
  auto response = stun::message_writer(stun::binding, stun::message_class::success, stun::new_transaction_id())
                      .finish(ours.pwd, true);
  EXPECT_EQ(feed(response).what, ice_lite_agent::outcome::ignored);
}

TEST_F(agent_test, ConsentLastsThirtySecondsFromTheLastValidCheck) {
  EXPECT_FALSE(agent.consent_expired(t0 + 29s));
  EXPECT_TRUE(agent.consent_expired(t0 + 30s));  // never checked at all
  feed(check(), browser, 25s);
  EXPECT_FALSE(agent.consent_expired(t0 + 54s));
  feed(check({.password = "wrong"}), browser, 50s);  // refused checks keep nothing alive
  EXPECT_TRUE(agent.consent_expired(t0 + 55s));
}

TEST_F(agent_test, AnUnknownPeerUfragTakesAny) {
  ice_lite_agent open{ours, "", t0};
  auto r = open.on_stun(view(check({.username = "Jlocal01:whoever"})), browser, t0);
  EXPECT_EQ(r.what, ice_lite_agent::outcome::answered);
  open.set_remote_ufrag("peer");
  r = open.on_stun(view(check({.username = "Jlocal01:whoever"})), browser, t0);
  EXPECT_EQ(r.what, ice_lite_agent::outcome::refused);
}

TEST(IceCredentials, AreFreshIceChars) {
  auto a = new_ice_credentials();
  auto b = new_ice_credentials();
  EXPECT_EQ(a.ufrag.size(), 8u);
  EXPECT_EQ(a.pwd.size(), 24u);  // RFC 8839 §5.4: at least 22 characters
  EXPECT_NE(a.ufrag, b.ufrag);
  EXPECT_NE(a.pwd, b.pwd);
  for (char c : a.ufrag + a.pwd) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/');
}

}  // namespace
}  // namespace junction::webrtc
