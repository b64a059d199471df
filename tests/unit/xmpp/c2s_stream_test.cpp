#include "xmpp/c2s_stream.hpp"

#include <gtest/gtest.h>

#include "core/base64.hpp"

namespace junction::xmpp {
namespace {

const std::string open_stream =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.com' version='1.0'>";

// The RFC 7677 exchange, with the server's nonce fixed to the RFC's.
const std::string client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const std::string client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

users::user_record user_record() {
  users::user_record r;
  r.username = "user";
  r.realm = "example.com";
  r.scram_sha256 = users::derive_scram_keys(users::scram_hash::sha256, "pencil",
                                            *base64::decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  return r;
}

c2s_settings settings() {
  c2s_settings s;
  s.domains = {"example.com"};
  s.allow_plain = true;
  s.nonce = [] { return std::string("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"); };
  return s;
}

std::string sasl(std::string_view name, std::string_view payload) {
  return "<" + std::string(name) + " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'" +
         (name == "auth" ? " mechanism='SCRAM-SHA-256'>" : ">") + base64::encode(payload) + "</" +
         std::string(name) + ">";
}

bool has_event(const std::vector<c2s_event>& events, c2s_event::kind k) {
  for (const auto& e : events)
    if (e.what == k) return true;
  return false;
}

// Logs in as user@example.com/phone; returns the stream.
void log_in(c2s_stream& s) {
  s.receive(open_stream);
  const std::string features = s.take_output();
  ASSERT_NE(features.find("<mechanism>SCRAM-SHA-256</mechanism>"), std::string::npos);
  ASSERT_EQ(features.find("PLAIN"), std::string::npos);  // not without TLS
  s.receive(sasl("auth", client_first));
  auto events = s.take_events();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].what, c2s_event::kind::need_credentials);
  EXPECT_EQ(events[0].username, "user");
  EXPECT_EQ(events[0].who.domain(), "example.com");
  s.credentials(user_record());
  EXPECT_NE(s.take_output().find(base64::encode(
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
            std::string::npos);
  s.receive(sasl("response", client_final));
  EXPECT_NE(s.take_output().find("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
                                 base64::encode("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")),
            std::string::npos);
  EXPECT_TRUE(has_event(s.take_events(), c2s_event::kind::authenticated));
  s.receive(open_stream + "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                          "<resource>phone</resource></bind></iq>");
  const std::string bound = s.take_output();
  EXPECT_NE(bound.find("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"), std::string::npos);
  EXPECT_NE(bound.find("<jid>user@example.com/phone</jid>"), std::string::npos);
  auto after = s.take_events();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].what, c2s_event::kind::bound);
  EXPECT_EQ(after[0].who.str(), "user@example.com/phone");
}

TEST(C2sStream, LogsInWithScramBindsAndRoutesAMessage) {
  c2s_stream s(settings(), "s1");
  log_in(s);
  ASSERT_TRUE(s.bound());
  s.receive("<message to='Bob@Example.com' type='chat' from='someone@else'><body>hi</body></message>");
  // A client may not say it is someone else.
  EXPECT_TRUE(s.closed());
  EXPECT_NE(s.take_output().find("<invalid-from"), std::string::npos);
}

TEST(C2sStream, StampsTheSenderAndHandsTheStanzaOn) {
  c2s_stream s(settings(), "s1");
  log_in(s);
  s.receive("<message to='Bob@Example.com' type='chat'><body>hi</body></message>");
  auto events = s.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, c2s_event::kind::route);
  EXPECT_EQ(events[0].who.str(), "bob@example.com");
  EXPECT_EQ(events[0].stanza->attr("from"), "user@example.com/phone");
  EXPECT_EQ(events[0].stanza->child_text("jabber:client", "body"), "hi");
  // Presence without a recipient goes to the account's own resources.
  s.receive("<presence><priority>5</priority></presence>");
  events = s.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, c2s_event::kind::broadcast);
}

TEST(C2sStream, AnswersPingDiscoAndUnknownQueries) {
  c2s_stream s(settings(), "s1");
  log_in(s);
  s.receive("<iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
  EXPECT_EQ(s.take_output(), "<iq type=\"result\" id=\"p1\" to=\"user@example.com/phone\" from=\"example.com\"/>");
  s.receive("<iq type='get' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  EXPECT_NE(s.take_output().find("category=\"account\""), std::string::npos);
  s.receive("<iq type='get' id='d2' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
  const std::string info = s.take_output();
  EXPECT_NE(info.find("category=\"server\""), std::string::npos);
  EXPECT_NE(info.find("var=\"urn:xmpp:ping\""), std::string::npos);
  s.receive("<iq type='get' id='u1'><query xmlns='urn:unknown'/></iq>");
  EXPECT_NE(s.take_output().find("<service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"),
            std::string::npos);
  s.receive("<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>");  // no id
  EXPECT_NE(s.take_output().find("bad-request"), std::string::npos);
  EXPECT_TRUE(s.take_events().empty());
}

TEST(C2sStream, AWrongPasswordFailsAndTooManyFailuresEndTheStream) {
  auto st = settings();
  st.max_auth_failures = 2;
  c2s_stream s(st, "s1");
  s.receive(open_stream);
  s.take_output();
  for (int attempt = 0; attempt < 2; ++attempt) {
    s.receive(sasl("auth", client_first));
    s.take_events();
    auto wrong = user_record();
    wrong.scram_sha256 = users::derive_scram_keys(users::scram_hash::sha256, "pencils",
                                                  *base64::decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
    s.credentials(wrong);
    s.take_output();
    s.receive(sasl("response", client_final));
    const std::string out = s.take_output();
    EXPECT_NE(out.find("<not-authorized/>"), std::string::npos);
    EXPECT_TRUE(has_event(s.take_events(), c2s_event::kind::auth_failed));
  }
  EXPECT_TRUE(s.closed());
}

TEST(C2sStream, StreamErrorsForBadHeaders) {
  struct {
    std::string bytes;
    const char* condition;
  } cases[] = {
      {"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
       "to='other.org' version='1.0'>",
       "host-unknown"},
      {"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
       "to='example.com' version='1.0'>",
       "invalid-namespace"},
      {"<stream xmlns='jabber:client' to='example.com' version='1.0'>", "invalid-namespace"},
      {"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
       "to='example.com' version='0.9'>",
       "unsupported-version"},
      {open_stream + "<message to='x@example.com'/>", "not-authorized"},
      {open_stream + "<a><b></a>", "not-well-formed"},
  };
  for (const auto& c : cases) {
    c2s_stream s(settings(), "s1");
    s.receive(c.bytes);
    const std::string out = s.take_output();
    EXPECT_NE(out.find("<stream:stream"), std::string::npos) << c.bytes;
    EXPECT_NE(out.find(std::string("<") + c.condition + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
              std::string::npos)
        << c.bytes << " -> " << out;
    EXPECT_TRUE(s.closed());
  }
}

TEST(C2sStream, PlainStreamsOnlyWhereAllowed) {
  auto st = settings();
  st.allow_plain = false;
  c2s_stream s(st, "s1");
  s.receive(open_stream);
  EXPECT_NE(s.take_output().find("<policy-violation"), std::string::npos);
  EXPECT_TRUE(s.closed());
}

TEST(C2sStream, TheWholeLoginWorksByteByByte) {
  c2s_stream s(settings(), "s1");
  for (char c : open_stream) s.receive(std::string_view(&c, 1));
  EXPECT_NE(s.take_output().find("SCRAM-SHA-256"), std::string::npos);
  for (char c : sasl("auth", client_first)) s.receive(std::string_view(&c, 1));
  ASSERT_TRUE(has_event(s.take_events(), c2s_event::kind::need_credentials));
  s.credentials(user_record());
  s.take_output();
  const std::string rest = sasl("response", client_final) + open_stream +
                           "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
  for (char c : rest) s.receive(std::string_view(&c, 1));
  EXPECT_TRUE(s.bound());
  EXPECT_EQ(s.address().str(), "user@example.com/junction-s1");
}

TEST(C2sStream, StartTlsIsRequiredThenPlainAndPlusAreOffered) {
  auto st = settings();
  st.allow_plain = false;
  st.tls_offered = true;
  st.tls_required = true;
  c2s_stream s(st, "s1");
  s.receive(open_stream);
  const std::string before = s.take_output();
  EXPECT_NE(before.find("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"), std::string::npos);
  EXPECT_EQ(before.find("<mechanisms"), std::string::npos);
  // Bytes the client sends after <starttls/> are TLS records, never XML.
  s.receive("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x01garbage");
  EXPECT_EQ(s.take_output(), "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  EXPECT_TRUE(has_event(s.take_events(), c2s_event::kind::starttls));
  EXPECT_FALSE(s.closed());
  s.tls_started({{"tls-exporter", "EXPORTED"}, {"tls-server-end-point", "HASH"}});
  EXPECT_TRUE(s.secure());
  s.receive(open_stream);
  const std::string after = s.take_output();
  for (const char* m : {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "PLAIN"})
    EXPECT_NE(after.find(std::string("<mechanism>") + m + "</mechanism>"), std::string::npos) << m;
  EXPECT_NE(after.find("<channel-binding type='tls-exporter'/>"), std::string::npos);
  // PLAIN, checked against the SCRAM-SHA-256 keys.
  s.receive("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
            base64::encode(std::string("\0user\0pencil", 12)) + "</auth>");
  auto events = s.take_events();
  ASSERT_TRUE(has_event(events, c2s_event::kind::need_credentials));
  s.credentials(user_record());
  EXPECT_NE(s.take_output().find("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'></success>"), std::string::npos);
  EXPECT_TRUE(has_event(s.take_events(), c2s_event::kind::authenticated));
}

TEST(C2sStream, LoggingInBeforeStartTlsIsRefused) {
  auto st = settings();
  st.tls_offered = true;
  st.tls_required = true;
  c2s_stream s(st, "s1");
  s.receive(open_stream + sasl("auth", client_first));
  EXPECT_NE(s.take_output().find("<policy-violation"), std::string::npos);
  EXPECT_TRUE(s.closed());
}

TEST(C2sStream, PlainIsRefusedWithoutTlsAndWithAWrongPassword) {
  c2s_stream plain_stream(settings(), "s1");
  plain_stream.receive(open_stream + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                       base64::encode(std::string("\0user\0pencil", 12)) + "</auth>");
  EXPECT_NE(plain_stream.take_output().find("<invalid-mechanism/>"), std::string::npos);

  auto st = settings();
  st.secure = true;
  c2s_stream s(st, "s2");
  s.receive(open_stream + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
            base64::encode(std::string("\0user\0crayon", 12)) + "</auth>");
  s.take_events();
  s.credentials(user_record());
  EXPECT_NE(s.take_output().find("<not-authorized/>"), std::string::npos);
  EXPECT_TRUE(has_event(s.take_events(), c2s_event::kind::auth_failed));
}

TEST(C2sStream, FramedForWebSocketEachElementIsAMessage) {
  auto st = settings();
  st.framed = true;
  c2s_stream s(st, "w1");
  const std::string open = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>";
  s.receive(open);
  auto frames = s.take_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='w1' version='1.0' xml:lang='en' "
                       "from='example.com'/>");
  EXPECT_EQ(frames[1].rfind("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>", 0), 0u);
  s.receive(sasl("auth", client_first));
  s.take_events();
  s.credentials(user_record());
  ASSERT_EQ(s.take_frames().size(), 1u);  // the challenge
  s.receive(sasl("response", client_final));
  ASSERT_EQ(s.take_frames().size(), 1u);  // success; the stream restarts at the next <open/>
  s.receive(open);
  ASSERT_EQ(s.take_frames().size(), 2u);
  s.receive("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  frames = s.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].rfind("<iq xmlns=\"jabber:client\"", 0), 0u) << frames[0];  // each names its namespace
  EXPECT_TRUE(s.bound());
  s.receive("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  frames = s.take_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  EXPECT_TRUE(s.closed());
}

}  // namespace
}  // namespace junction::xmpp

namespace junction::xmpp {
namespace {

std::shared_ptr<const xml::element> chat(std::string body) {
  auto m = std::make_shared<xml::element>("jabber:client", "message");
  m->set("from", "bob@example.com/x").set("to", "user@example.com/phone").set("type", "chat");
  m->add("jabber:client", "body").add_text(body);
  return m;
}

c2s_settings sm_settings() {
  c2s_settings s = settings();
  s.sm_id_prefix = "3.";
  s.sm_max_unacked = 5;
  return s;
}

TEST(C2sStreamManagement, CountsAcknowledgesAndAnswersRequests) {
  c2s_stream s(sm_settings(), "sm1");
  log_in(s);
  s.receive("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
  const std::string enabled = s.take_output();
  EXPECT_NE(enabled.find("<enabled xmlns='urn:xmpp:sm:3' id='3."), std::string::npos);
  EXPECT_NE(enabled.find("resume='true' max='300'"), std::string::npos);
  // Two stanzas from the client, then a request: h counts them.
  s.receive("<presence/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq><r xmlns='urn:xmpp:sm:3'/>");
  const std::string out = s.take_output();
  EXPECT_NE(out.find("<a xmlns='urn:xmpp:sm:3' h='2'/>"), std::string::npos);
  // The ping's answer was a stanza sent: counted, and an ack asked for once.
  EXPECT_NE(out.find("<r xmlns='urn:xmpp:sm:3'/>"), std::string::npos);
  s.deliver(chat("one"));
  s.deliver(chat("two"));
  EXPECT_EQ(s.take_output().find("<r xmlns"), std::string::npos);  // one request outstanding
  s.receive("<a xmlns='urn:xmpp:sm:3' h='2'/>");  // the ping result and "one"
  EXPECT_TRUE(s.resumable());
  const sm_state state = s.take_sm_state();
  ASSERT_EQ(state.unacked.size(), 1u);
  EXPECT_EQ(state.unacked.front()->child_text("jabber:client", "body"), "two");
  EXPECT_EQ(state.handled_in, 2u);
  EXPECT_EQ(state.acked_out, 2u);
}

TEST(C2sStreamManagement, AcknowledgingMoreThanSentOrTooManyUnackedEndsTheStream) {
  c2s_stream s(sm_settings(), "sm2");
  log_in(s);
  s.receive("<enable xmlns='urn:xmpp:sm:3'/>");
  EXPECT_EQ(s.take_output().find("resume="), std::string::npos);  // not asked for: not resumable
  s.receive("<a xmlns='urn:xmpp:sm:3' h='1'/>");
  EXPECT_TRUE(s.closed());
  EXPECT_NE(s.take_output().find("undefined-condition"), std::string::npos);

  c2s_stream t(sm_settings(), "sm3");
  log_in(t);
  t.receive("<enable xmlns='urn:xmpp:sm:3'/>");
  for (int i = 0; i < 6; ++i) t.deliver(chat(std::to_string(i)));
  EXPECT_TRUE(t.closed());
  EXPECT_NE(t.take_output().find("policy-violation"), std::string::npos);
}

TEST(C2sStreamManagement, ResumingSendsAgainWhatTheClientDidNotGet) {
  c2s_stream old(sm_settings(), "old");
  log_in(old);
  old.receive("<enable xmlns='urn:xmpp:sm:3' resume='true'/><presence/>");
  for (const char* body : {"a", "b", "c"}) old.deliver(chat(body));
  old.take_output();
  sm_state state = old.take_sm_state();
  const std::string id = state.id;

  // A new connection logs in (SASL, restart), then resumes instead of binding.
  c2s_stream s(sm_settings(), "new");
  s.receive(open_stream);
  s.take_output();
  s.receive(sasl("auth", client_first));
  s.take_events();
  s.credentials(user_record());
  s.receive(sasl("response", client_final));
  s.take_output();
  s.take_events();
  s.receive(open_stream);
  EXPECT_NE(s.take_output().find("<sm xmlns='urn:xmpp:sm:3'/>"), std::string::npos);
  s.receive("<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='1'/><presence/>");
  auto events = s.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, c2s_event::kind::resume);
  EXPECT_EQ(events[0].reason, id);
  EXPECT_EQ(events[0].handled, 1u);
  EXPECT_EQ(events[0].who.str(), "user@example.com");
  const auto address = jid::parse("user@example.com/phone");
  s.resumed(*address, std::move(state));
  const std::string out = s.take_output();
  EXPECT_NE(out.find("<resumed xmlns='urn:xmpp:sm:3' h='1' previd='" + id + "'/>"), std::string::npos);
  EXPECT_EQ(out.find(">a<"), std::string::npos);  // acknowledged by h='1'
  EXPECT_LT(out.find(">b<"), out.find(">c<"));
  EXPECT_TRUE(s.bound());
  auto after = s.take_events();
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after[0].what, c2s_event::kind::resumed);
  EXPECT_EQ(after.back().what, c2s_event::kind::broadcast);  // the presence that waited
}

TEST(C2sStreamManagement, AResumeThatFindsNothingLeavesTheClientToBind) {
  c2s_stream s(sm_settings(), "x");
  s.receive(open_stream);
  s.receive(sasl("auth", client_first));
  s.take_events();
  s.credentials(user_record());
  s.receive(sasl("response", client_final));
  s.receive(open_stream);
  s.take_output();
  s.take_events();
  s.receive("<resume xmlns='urn:xmpp:sm:3' previd='3.nope' h='0'/>");
  s.resume_failed();
  EXPECT_NE(s.take_output().find("<failed xmlns='urn:xmpp:sm:3'><item-not-found"), std::string::npos);
  s.receive("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  EXPECT_TRUE(s.bound());
}

}  // namespace
}  // namespace junction::xmpp

namespace junction::xmpp {
namespace {

TEST(C2sRegistration, AnAccountIsAskedForAndTheAnswerComesBack) {
  c2s_settings s = settings();
  s.registration = true;
  c2s_stream stream(s, "r");
  stream.receive(open_stream);
  EXPECT_NE(stream.take_output().find("iq-register"), std::string::npos);
  stream.receive("<iq type='set' id='r2'><query xmlns='jabber:iq:register'><username>zed</username>"
                 "<password>pw</password></query></iq>");
  auto events = stream.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, c2s_event::kind::register_account);
  EXPECT_EQ(events[0].username, "zed");
  EXPECT_EQ(events[0].password, "pw");
  EXPECT_EQ(events[0].who.domain(), "example.com");
  stream.registered("");
  EXPECT_NE(stream.take_output().find("id=\"r2\""), std::string::npos);
  stream.receive("<iq type='set' id='r3'><query xmlns='jabber:iq:register'><username>alice</username>"
                 "<password>pw</password></query></iq>");
  stream.take_events();
  stream.registered("conflict");
  const std::string refused = stream.take_output();
  EXPECT_NE(refused.find("<conflict"), std::string::npos);
  EXPECT_NE(refused.find("id=\"r3\""), std::string::npos);
  // Off: not allowed, and not offered.
  c2s_stream off(settings(), "o");
  off.receive(open_stream);
  EXPECT_EQ(off.take_output().find("iq-register"), std::string::npos);
  off.receive("<iq type='set' id='r4'><query xmlns='jabber:iq:register'><username>x</username><password>y</password></query></iq>");
  EXPECT_NE(off.take_output().find("not-allowed"), std::string::npos);
}

}  // namespace
}  // namespace junction::xmpp
