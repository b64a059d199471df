// The gateway's SIP user agent as a pure state machine: datagrams in, datagrams and events out.
// The server side of each exchange is played by hand-written responses, and the digest answer is
// checked by the very code Junction's registrar verifies with.
#include "sip/ua/user_agent.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "sip/digest_auth.hpp"
#include "sip/parser.hpp"
#include "sip/response.hpp"
#include "users/credentials.hpp"
#include "users/digest.hpp"
#include "users/nonce.hpp"

namespace junction::sip::ua {
namespace {

using namespace std::chrono_literals;

sip::message parse(std::string_view bytes) {
  auto r = sip::parse_message(bytes, sip::parse_limits{}, true);
  EXPECT_TRUE(r.ok()) << r.reason() << "\n" << bytes;
  return std::move(*r.msg);
}

ua::settings settings() {
  ua::settings s;
  s.user = "alice";
  s.domain = "example.com";
  s.display_name = "Alice";
  s.password = "secret";
  s.local_host = "127.0.0.1";
  s.local_port = 40000;
  s.proxy_host = "127.0.0.1";
  s.proxy_port = 5060;
  s.register_expires = 300;
  return s;
}

template <class E>
const E* find_event(const std::vector<ua::event_t>& events) {
  for (const auto& e : events)
    if (auto* x = std::get_if<E>(&e)) return x;
  return nullptr;
}

// A response to `request` as a proxy/registrar would write it (To-tag added when given).
std::string reply(const sip::message& request, int status, std::string_view to_tag = "srv",
                  std::vector<std::pair<std::string_view, std::string_view>> headers = {},
                  std::string_view body = {}) {
  return sip::make_response(request, status,
                            {.to_tag = to_tag, .headers = std::move(headers),
                             .content_type = body.empty() ? std::string_view{} : "application/sdp", .body = body});
}

class AgentTest : public ::testing::Test {
 protected:
  ua::clock::time_point now = ua::clock::time_point{} + 1000s;
  user_agent agent{settings(), 42};

  // The one datagram the agent sent, parsed.
  sip::message sent_one() {
    auto out = agent.take_output();
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return {};
    return parse(out.front().bytes);
  }
  void feed(const std::string& bytes) { agent.on_datagram(bytes, "127.0.0.1", 5060, now); }
};

TEST_F(AgentTest, RegistersAnsweringTheDigestChallengeAndRefreshesAtHalfTime) {
  agent.registration().start(now);
  auto first = sent_one();
  EXPECT_EQ(first.method(), "REGISTER");
  EXPECT_EQ(first.request_uri_text(), "sip:example.com");
  EXPECT_EQ(first.value(sip::header_id::expires), "300");
  ASSERT_EQ(first.contacts().size(), 1u);
  EXPECT_EQ(first.contacts()[0].uri_text, "sip:alice@127.0.0.1:40000;transport=udp");

  // The registrar's challenge, made and later checked by the server's own code.
  sip::auth_settings auth;
  auth.nonce_secret = users::make_nonce_secret();
  const auto wall = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto nonce = users::make_nonce(auth.nonce_secret, "example.com", wall);
  const auto challenge = users::make_challenge({.realm = "example.com", .nonce = nonce,
                                                .algorithm = users::digest_algorithm::sha256});
  feed(reply(first, 401, "srv", {{"WWW-Authenticate", challenge}}));
  auto second = sent_one();
  EXPECT_EQ(second.method(), "REGISTER");
  EXPECT_EQ(second.call_id(), first.call_id());
  EXPECT_EQ(second.cseq(), first.cseq() + 1);
  EXPECT_NE(second.top_via().params.value("branch"), first.top_via().params.value("branch"));
  auto verdict = sip::authenticate(
      second, "example.com", "alice",
      [](std::string_view user, std::string_view realm) -> std::optional<users::user_record> {
        return users::user_record{std::string{user}, std::string{realm},
                                  users::ha1(users::digest_algorithm::md5, user, realm, "secret"),
                                  users::ha1(users::digest_algorithm::sha256, user, realm, "secret"), 0, {}, {}};
      },
      auth, wall);
  EXPECT_EQ(verdict.what, sip::auth_verdict::kind::authenticated) << verdict.reason;

  feed(reply(second, 200, "srv", {{"Contact", "<sip:alice@127.0.0.1:40000;transport=udp>;expires=120"}}));
  auto events = agent.take_events();
  auto* registered = find_event<ua::event::registered>(events);
  ASSERT_NE(registered, nullptr);
  EXPECT_EQ(registered->expires, 120u);
  EXPECT_TRUE(agent.registration().registered());
  // The refresh is due at half the granted time.
  now += 61s;
  agent.on_timer(now);
  auto refresh = sent_one();
  EXPECT_EQ(refresh.method(), "REGISTER");
  EXPECT_EQ(refresh.call_id(), first.call_id());
}

TEST_F(AgentTest, AWrongPasswordFailsAfterOneRetry) {
  agent.registration().start(now);
  auto first = sent_one();
  const std::string challenge = R"(Digest realm="example.com", nonce="abc", algorithm=MD5, qop="auth")";
  feed(reply(first, 401, "srv", {{"WWW-Authenticate", challenge}}));
  auto second = sent_one();
  EXPECT_NE(second.value(sip::header_id::authorization).find("algorithm=MD5"), std::string_view::npos);
  feed(reply(second, 401, "srv", {{"WWW-Authenticate", challenge}}));
  EXPECT_TRUE(agent.take_output().empty());
  auto events = agent.take_events();
  auto* failed = find_event<ua::event::registration_failed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status, 401);
  EXPECT_FALSE(agent.registration().registered());
}

TEST_F(AgentTest, AnUnansweredRegisterTimesOut) {
  agent.registration().start(now);
  EXPECT_EQ(agent.take_output().size(), 1u);
  int resent = 0;
  for (int i = 0; i < 200 && agent.transactions(); ++i) {
    now += 500ms;
    agent.on_timer(now);
    resent += static_cast<int>(agent.take_output().size());
  }
  EXPECT_GT(resent, 5);  // Timer E retransmissions
  auto events = agent.take_events();
  auto* failed = find_event<ua::event::registration_failed>(events);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status, 408);
  EXPECT_EQ(agent.transactions(), 0u);
}

TEST_F(AgentTest, OutgoingCallRingsIsAnsweredAcknowledgedAndHungUpAlongTheRoute) {
  ASSERT_TRUE(agent.call().invite("bob@example.com", "v=0 offer", now));
  EXPECT_FALSE(agent.call().invite("carol@example.com", "v=0", now));  // one call per line
  auto invite = sent_one();
  EXPECT_EQ(invite.method(), "INVITE");
  EXPECT_EQ(invite.request_uri_text(), "sip:bob@example.com");
  EXPECT_EQ(invite.body(), "v=0 offer");
  EXPECT_NE(invite.value(sip::header_id::from).find("\"Alice\""), std::string_view::npos);

  feed(reply(invite, 100, {}));
  feed(reply(invite, 180, "bob1"));
  auto events = agent.take_events();
  ASSERT_NE(find_event<ua::event::ringing>(events), nullptr);
  EXPECT_EQ(find_event<ua::event::ringing>(events)->status, 180);

  const std::string ok = reply(invite, 200, "bob1",
                               {{"Record-Route", "<sip:10.0.0.1:5060;lr>"}, {"Contact", "<sip:bob@10.0.0.9:5070>"}},
                               "v=0 answer");
  feed(ok);
  auto ack = sent_one();
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.request_uri_text(), "sip:bob@10.0.0.9:5070");
  EXPECT_EQ(ack.value(sip::header_id::route), "<sip:10.0.0.1:5060;lr>");
  EXPECT_EQ(ack.cseq(), invite.cseq());
  EXPECT_EQ(ack.to().tag(), "bob1");
  events = agent.take_events();
  auto* answered = find_event<ua::event::answered>(events);
  ASSERT_NE(answered, nullptr);
  EXPECT_EQ(answered->sdp, "v=0 answer");
  EXPECT_EQ(agent.call().state(), ua::call_state::confirmed);

  feed(ok);  // a retransmitted 2xx gets the same ACK again
  auto again = agent.take_output();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(parse(again[0].bytes).method(), "ACK");
  EXPECT_EQ(again[0].host, "10.0.0.1");

  agent.call().hang_up(now);
  auto out = agent.take_output();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host, "10.0.0.1");  // loose routing: to the first route
  auto bye = parse(out[0].bytes);
  EXPECT_EQ(bye.method(), "BYE");
  EXPECT_EQ(bye.request_uri_text(), "sip:bob@10.0.0.9:5070");
  EXPECT_GT(bye.cseq(), invite.cseq());
  EXPECT_EQ(agent.call().state(), ua::call_state::idle);
}

TEST_F(AgentTest, HangingUpWhileItRingsCancelsAndTheCallerHearsNothingMore) {
  agent.call().invite("bob@example.com", "v=0", now);
  auto invite = sent_one();
  agent.call().hang_up(now);  // nothing answered yet: the CANCEL waits for a provisional response
  EXPECT_TRUE(agent.take_output().empty());
  feed(reply(invite, 180, "bob1"));
  auto cancel = sent_one();
  EXPECT_EQ(cancel.method(), "CANCEL");
  EXPECT_EQ(cancel.top_via().params.value("branch"), invite.top_via().params.value("branch"));
  EXPECT_EQ(cancel.cseq(), invite.cseq());
  feed(reply(cancel, 200, "bob1"));
  feed(reply(invite, 487, "bob1"));
  auto ack = sent_one();
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.top_via().params.value("branch"), invite.top_via().params.value("branch"));
  auto events = agent.take_events();
  EXPECT_EQ(find_event<ua::event::rejected>(events), nullptr);
  EXPECT_EQ(find_event<ua::event::ringing>(events), nullptr);
  EXPECT_EQ(agent.call().state(), ua::call_state::idle);
}

TEST_F(AgentTest, ABusyCalleeRejectsTheCall) {
  agent.call().invite("bob@example.com", "v=0", now);
  auto invite = sent_one();
  feed(reply(invite, 486, "bob1"));
  EXPECT_EQ(sent_one().method(), "ACK");
  auto events = agent.take_events();
  auto* rejected = find_event<ua::event::rejected>(events);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->status, 486);
  EXPECT_EQ(rejected->reason, "Busy Here");
}

constexpr std::string_view incoming_invite =
    "INVITE sip:alice@127.0.0.1:40000 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy1\r\n"
    "Record-Route: <sip:127.0.0.1:5060;lr>\r\n"
    "From: <sip:bob@example.com>;tag=bobtag\r\n"
    "To: <sip:alice@example.com>\r\n"
    "Call-ID: call-1@example.com\r\n"
    "CSeq: 7 INVITE\r\n"
    "Contact: <sip:bob@10.0.0.9:5070>\r\n"
    "Max-Forwards: 69\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 9\r\n\r\n"
    "v=0 offer";

TEST_F(AgentTest, IncomingCallRingsIsAcceptedConfirmedAndEndedByTheCaller) {
  feed(std::string{incoming_invite});
  auto ringing = sent_one();
  EXPECT_EQ(ringing.status(), 180);
  const std::string our_tag{ringing.to().tag()};
  EXPECT_FALSE(our_tag.empty());
  auto events = agent.take_events();
  auto* invited = find_event<ua::event::invited>(events);
  ASSERT_NE(invited, nullptr);
  EXPECT_EQ(invited->from, "sip:bob@example.com");
  EXPECT_EQ(invited->to, "sip:alice@example.com");
  EXPECT_EQ(invited->sdp, "v=0 offer");
  EXPECT_EQ(agent.call().state(), ua::call_state::ringing);

  feed(std::string{incoming_invite});  // a retransmission: the 180 again, no second call
  EXPECT_EQ(sent_one().status(), 180);
  EXPECT_TRUE(agent.take_events().empty());

  ASSERT_TRUE(agent.call().accept("v=0 answer", now));
  auto ok = sent_one();
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.to().tag(), our_tag);
  EXPECT_EQ(ok.body(), "v=0 answer");
  EXPECT_EQ(ok.value(sip::header_id::record_route), "<sip:127.0.0.1:5060;lr>");
  // No ACK yet: the 2xx goes again after T1 (RFC 3261 §13.3.1.4).
  now += 500ms;
  agent.on_timer(now);
  EXPECT_EQ(sent_one().status(), 200);
  feed(fmt::format("ACK sip:alice@127.0.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack\r\n"
                   "From: <sip:bob@example.com>;tag=bobtag\r\nTo: <sip:alice@example.com>;tag={}\r\n"
                   "Call-ID: call-1@example.com\r\nCSeq: 7 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                   our_tag));
  EXPECT_NE(find_event<ua::event::confirmed>(agent.take_events()), nullptr);
  now += 1s;
  agent.on_timer(now);
  EXPECT_TRUE(agent.take_output().empty());  // ACKed: no more 2xx

  feed(fmt::format("BYE sip:alice@127.0.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbye\r\n"
                   "From: <sip:bob@example.com>;tag=bobtag\r\nTo: <sip:alice@example.com>;tag={}\r\n"
                   "Call-ID: call-1@example.com\r\nCSeq: 8 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                   our_tag));
  EXPECT_EQ(sent_one().status(), 200);
  EXPECT_NE(find_event<ua::event::ended>(agent.take_events()), nullptr);
  EXPECT_EQ(agent.call().state(), ua::call_state::idle);
  // Transactions end by themselves.
  for (int i = 0; i < 100 && agent.transactions(); ++i) {
    now += 1s;
    agent.on_timer(now);
  }
  EXPECT_EQ(agent.transactions(), 0u);
}

TEST_F(AgentTest, ACallerWhoCancelsGets487AndTheClientHearsCancelled) {
  feed(std::string{incoming_invite});
  agent.take_output();
  agent.take_events();
  feed("CANCEL sip:alice@127.0.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy1\r\n"
       "From: <sip:bob@example.com>;tag=bobtag\r\nTo: <sip:alice@example.com>\r\nCall-ID: call-1@example.com\r\n"
       "CSeq: 7 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  auto out = agent.take_output();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(parse(out[0].bytes).status(), 200);
  EXPECT_EQ(parse(out[0].bytes).cseq_method(), "CANCEL");
  EXPECT_EQ(parse(out[1].bytes).status(), 487);
  auto events = agent.take_events();
  auto* cancelled = find_event<ua::event::cancelled>(events);
  ASSERT_NE(cancelled, nullptr);
  EXPECT_EQ(cancelled->from, "sip:bob@example.com");
  EXPECT_EQ(agent.call().state(), ua::call_state::idle);
}

TEST_F(AgentTest, ASecondCallWhileBusyGets486AndStrangersGet481) {
  feed(std::string{incoming_invite});
  agent.take_output();
  std::string second{incoming_invite};
  second.replace(second.find("call-1"), 6, "call-2");
  second.replace(second.find("proxy1"), 6, "proxy2");
  feed(second);
  EXPECT_EQ(sent_one().status(), 486);
  feed("BYE sip:alice@127.0.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
       "From: <sip:eve@example.com>;tag=e\r\nTo: <sip:alice@example.com>;tag=nope\r\nCall-ID: other\r\n"
       "CSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(sent_one().status(), 481);
  // Not SIP at all: nothing.
  feed("\r\n\r\n");
  feed(std::string(300, '\xff'));
  EXPECT_TRUE(agent.take_output().empty());
}

// An outgoing call that is up, its INVITE and 2xx consumed.
sip::message outgoing_call_up(user_agent& agent, ua::clock::time_point now) {
  agent.call().invite("bob@example.com", "v=0 offer", now);
  auto invite = parse(agent.take_output().at(0).bytes);
  agent.on_datagram(reply(invite, 200, "bob1",
                          {{"Record-Route", "<sip:10.0.0.1:5060;lr>"}, {"Contact", "<sip:bob@10.0.0.9:5070>"}},
                          "v=0 answer"),
                    "127.0.0.1", 5060, now);
  agent.take_output();
  agent.take_events();
  return invite;
}

TEST_F(AgentTest, OurReInviteGoesAlongTheRouteIsAcknowledgedAndAFailureKeepsTheCall) {
  auto invite = outgoing_call_up(agent, now);
  ASSERT_TRUE(agent.call().reinvite("v=0 hold", now));
  EXPECT_FALSE(agent.call().reinvite("v=0 again", now));  // one offer at a time
  auto out = agent.take_output();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host, "10.0.0.1");
  auto re = parse(out[0].bytes);
  EXPECT_EQ(re.method(), "INVITE");
  EXPECT_EQ(re.request_uri_text(), "sip:bob@10.0.0.9:5070");
  EXPECT_EQ(re.call_id(), invite.call_id());
  EXPECT_EQ(re.to().tag(), "bob1");
  EXPECT_EQ(re.from().tag(), invite.from().tag());
  EXPECT_GT(re.cseq(), invite.cseq());
  EXPECT_EQ(re.body(), "v=0 hold");
  EXPECT_EQ(re.contacts().size(), 1u);
  EXPECT_EQ(re.value(sip::header_id::route), "<sip:10.0.0.1:5060;lr>");

  const std::string ok = reply(re, 200, "bob1", {}, "v=0 held answer");
  feed(ok);
  auto ack = sent_one();
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.cseq(), re.cseq());
  auto events = agent.take_events();
  ASSERT_NE(find_event<ua::event::reanswered>(events), nullptr);
  EXPECT_EQ(find_event<ua::event::reanswered>(events)->sdp, "v=0 held answer");
  EXPECT_EQ(agent.call().remote_sdp(), "v=0 held answer");
  feed(ok);  // retransmitted: only the ACK again
  EXPECT_EQ(sent_one().method(), "ACK");
  EXPECT_TRUE(agent.take_events().empty());

  // A refused re-INVITE leaves the call as it was.
  ASSERT_TRUE(agent.call().reinvite("v=0 resume", now));
  auto second = sent_one();
  feed(reply(second, 488, "bob1"));
  events = agent.take_events();
  ASSERT_NE(find_event<ua::event::reinvite_failed>(events), nullptr);
  EXPECT_EQ(find_event<ua::event::reinvite_failed>(events)->status, 488);
  EXPECT_EQ(agent.call().state(), ua::call_state::confirmed);
  agent.take_output();  // the ACK of the 488

  // 481: the other side has no such dialog any more, so the call ends (RFC 5057).
  ASSERT_TRUE(agent.call().reinvite("v=0 resume", now));
  auto third = sent_one();
  feed(reply(third, 481, "bob1"));
  EXPECT_NE(find_event<ua::event::ended>(agent.take_events()), nullptr);
  EXPECT_EQ(agent.call().state(), ua::call_state::idle);
  bool bye = false;
  for (const auto& d : agent.take_output()) bye = bye || parse(d.bytes).method() == "BYE";
  EXPECT_TRUE(bye);
}

TEST_F(AgentTest, TheirReInviteIsAnsweredByTheLineAndCrossingOffersGet491) {
  feed(std::string{incoming_invite});
  agent.take_output();
  ASSERT_TRUE(agent.call().accept("v=0 answer", now));
  const std::string our_tag{sent_one().to().tag()};
  auto in_dialog = [&](std::string_view method, std::string_view branch, int cseq, std::string_view body) {
    return fmt::format("{} sip:alice@127.0.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={}\r\n"
                       "From: <sip:bob@example.com>;tag=bobtag\r\nTo: <sip:alice@example.com>;tag={}\r\n"
                       "Call-ID: call-1@example.com\r\nCSeq: {} {}\r\nContact: <sip:bob@10.0.0.9:5070>\r\n"
                       "Max-Forwards: 70\r\n{}Content-Length: {}\r\n\r\n{}",
                       method, branch, our_tag, cseq, method,
                       body.empty() ? "" : "Content-Type: application/sdp\r\n", body.size(), body);
  };
  // Before the ACK of our 2xx, a re-INVITE is told to come back (RFC 3261 §14.2).
  feed(in_dialog("INVITE", "z9hG4bKre0", 8, "v=0 early"));
  auto busy = sent_one();
  EXPECT_EQ(busy.status(), 500);
  ASSERT_NE(busy.find("Retry-After"), nullptr);
  EXPECT_EQ(busy.find("Retry-After")->value, "1");
  feed(in_dialog("ACK", "z9hG4bKre0", 8, ""));  // the ACK of the 500
  feed(in_dialog("ACK", "z9hG4bKack", 7, ""));
  agent.take_events();

  feed(in_dialog("INVITE", "z9hG4bKre1", 9, "v=0 sendonly"));
  auto events = agent.take_events();
  ASSERT_NE(find_event<ua::event::reoffered>(events), nullptr);
  EXPECT_EQ(find_event<ua::event::reoffered>(events)->sdp, "v=0 sendonly");
  EXPECT_TRUE(agent.take_output().empty());  // the line answers
  EXPECT_FALSE(agent.call().reinvite("v=0 crossing", now));
  ASSERT_TRUE(agent.call().answer_reoffer(200, "v=0 recvonly", now));
  auto ok = sent_one();
  EXPECT_EQ(ok.status(), 200);
  EXPECT_EQ(ok.cseq(), 9u);
  EXPECT_EQ(ok.to().tag(), our_tag);
  EXPECT_EQ(ok.body(), "v=0 recvonly");
  now += 500ms;
  agent.on_timer(now);
  EXPECT_EQ(sent_one().status(), 200);  // until the ACK
  feed(in_dialog("ACK", "z9hG4bKack2", 9, ""));
  EXPECT_TRUE(agent.take_events().empty());  // not a new call
  now += 2s;
  agent.on_timer(now);
  EXPECT_TRUE(agent.take_output().empty());

  // Offers crossing: ours is on its way, theirs gets 491.
  ASSERT_TRUE(agent.call().reinvite("v=0 ours", now));
  auto ours = sent_one();
  EXPECT_EQ(ours.method(), "INVITE");
  EXPECT_EQ(ours.request_uri_text(), "sip:bob@10.0.0.9:5070");
  EXPECT_EQ(ours.value(sip::header_id::route), "<sip:127.0.0.1:5060;lr>");
  feed(in_dialog("INVITE", "z9hG4bKre2", 10, "v=0 theirs"));
  EXPECT_EQ(sent_one().status(), 491);
  EXPECT_TRUE(agent.take_events().empty());

  // A refused re-offer leaves the session as it was.
  feed(reply(ours, 200, "bobtag", {}, "v=0 answer to ours"));
  agent.take_output();
  agent.take_events();
  feed(in_dialog("INVITE", "z9hG4bKre3", 11, "v=0 video only"));
  ASSERT_NE(find_event<ua::event::reoffered>(agent.take_events()), nullptr);
  ASSERT_TRUE(agent.call().answer_reoffer(488, {}, now));
  EXPECT_EQ(sent_one().status(), 488);
  EXPECT_EQ(agent.call().state(), ua::call_state::confirmed);
}

TEST(Credentials, ChallengeParsingAndAuthorization) {
  auto c = users::parse_challenge(R"(Digest realm="r", nonce="n", qop="auth,auth-int", stale=TRUE, opaque="o")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.params.realm, "r");
  EXPECT_EQ(c.params.opaque, "o");
  EXPECT_TRUE(c.stale);
  EXPECT_FALSE(users::parse_challenge(R"(Digest nonce="n")").ok());  // no realm
  EXPECT_FALSE(users::parse_challenge(R"(Basic realm="r")").ok());
  auto value = users::make_authorization(c.params, {.username = "u", .password = "p", .method = "REGISTER",
                                                    .uri = "sip:r", .cnonce = "cn", .nonce_count = 1});
  auto parsed = users::parse_credentials(value);
  ASSERT_TRUE(parsed.ok()) << value;
  EXPECT_EQ(parsed.credentials.qop, "auth");
  EXPECT_EQ(parsed.credentials.nc, "00000001");
  EXPECT_EQ(parsed.credentials.opaque, "o");
  const auto ha1 = users::ha1(users::digest_algorithm::md5, "u", "r", "p");
  EXPECT_EQ(parsed.credentials.response,
            users::response(users::digest_algorithm::md5, ha1, "n", "00000001", "cn", users::digest_qop::auth,
                            "REGISTER", "sip:r"));
  // auth-int only, or an unknown algorithm: no answer.
  auto only_int = users::parse_challenge(R"(Digest realm="r", nonce="n", qop="auth-int")");
  EXPECT_TRUE(users::make_authorization(only_int.params, {.username = "u"}).empty());
  auto sess = users::parse_challenge(R"(Digest realm="r", nonce="n", algorithm=MD5-sess)");
  EXPECT_TRUE(users::make_authorization(sess.params, {.username = "u"}).empty());
}

}  // namespace
}  // namespace junction::sip::ua
