#include "xmpp/s2s_stream.hpp"

#include <gtest/gtest.h>

namespace junction::xmpp {
namespace {

s2s_settings settings(std::string domain, std::string secret, bool encryption = false) {
  s2s_settings s;
  s.domains = {std::move(domain)};
  s.secret = std::move(secret);
  s.require_encryption = encryption;
  s.tls_offered = encryption;
  return s;
}

const std::string header_from_remote =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns:db='jabber:server:dialback' from='remote.test' to='junction.test' version='1.0'>";

std::vector<s2s_event> of_kind(const std::vector<s2s_event>& events, s2s_event::kind k) {
  std::vector<s2s_event> out;
  for (const auto& e : events)
    if (e.what == k) out.push_back(e);
  return out;
}

// Feeds `bytes` one at a time when `split`, else at once.
void feed(s2s_stream& s, const std::string& bytes, bool split) {
  if (!split) return s.receive(bytes);
  for (char c : bytes) s.receive(std::string_view(&c, 1));
}

TEST(Dialback, KeyIsXep0220sHmacOfTheHashedSecret) {
  // HMAC-SHA256(hex(SHA256("s3cr3tf0rd14lb4ck")), "example.net example.com D60000229F"), as
  // Prosody and Python's hmac compute it.
  EXPECT_EQ(dialback_key("s3cr3tf0rd14lb4ck", "example.net", "example.com", "D60000229F"),
            "008c689ff366b50c63d69a3e2d2c0e0e1f8404b0118eb688a0102c87cb691bdc");
}

// junction.test's outgoing stream against remote.test's incoming one (both this class), with the
// dialback question answered the way remote.test's links would: by asking junction.test's
// authority (a third stream, incoming at junction.test) whether the key is its.
void federate(bool split) {
  s2s_stream out(settings("junction.test", "junction-secret"), s2s_stream::role::outgoing, {}, "junction.test",
                 "remote.test");
  s2s_stream in(settings("remote.test", "remote-secret"), s2s_stream::role::incoming, "stream-42");
  s2s_stream authority(settings("junction.test", "junction-secret"), s2s_stream::role::incoming, "stream-7");

  feed(in, out.take_output(), split);
  const std::string features = in.take_output();
  EXPECT_NE(features.find("id='stream-42'"), std::string::npos);
  EXPECT_NE(features.find("urn:xmpp:features:dialback"), std::string::npos);
  feed(out, features, split);
  const std::string result = out.take_output();
  const std::string key = dialback_key("junction-secret", "remote.test", "junction.test", "stream-42");
  EXPECT_NE(result.find("<db:result from='junction.test' to='remote.test'>" + key + "</db:result>"), std::string::npos);
  feed(in, result, split);
  auto needed = of_kind(in.take_events(), s2s_event::kind::verify_needed);
  ASSERT_EQ(needed.size(), 1u);
  EXPECT_EQ(needed[0].local, "remote.test");
  EXPECT_EQ(needed[0].remote, "junction.test");
  EXPECT_EQ(needed[0].id, "stream-42");
  EXPECT_EQ(needed[0].key, key);

  // remote.test asks junction.test (its own outgoing stream, here written by hand).
  feed(authority,
       "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
       "xmlns:db='jabber:server:dialback' from='remote.test' to='junction.test' version='1.0'>"
       "<db:verify from='remote.test' to='junction.test' id='stream-42'>" + key + "</db:verify>"
       "<db:verify from='remote.test' to='junction.test' id='stream-43'>" + key + "</db:verify>",
       split);
  const std::string answers = authority.take_output();
  EXPECT_NE(answers.find("<db:verify from='junction.test' to='remote.test' id='stream-42' type='valid'/>"),
            std::string::npos);
  // The same key for another stream is not junction.test's.
  EXPECT_NE(answers.find("<db:verify from='junction.test' to='remote.test' id='stream-43' type='invalid'/>"),
            std::string::npos);

  in.verified("remote.test", "junction.test", true);
  EXPECT_EQ(of_kind(in.take_events(), s2s_event::kind::authenticated).size(), 1u);
  feed(out, in.take_output(), split);
  ASSERT_EQ(of_kind(out.take_events(), s2s_event::kind::authenticated).size(), 1u);
  EXPECT_TRUE(out.authenticated());

  xml::element message("jabber:client", "message");
  message.set("from", "alice@junction.test/laptop").set("to", "bob@remote.test").set("type", "chat");
  message.add("jabber:client", "body").add_text("hi <&> \xc3\xa9");
  out.send_stanza(message);
  const std::string wire = out.take_output();
  EXPECT_EQ(wire.find("xmlns='jabber:client'"), std::string::npos);  // jabber:server on the wire
  feed(in, wire, split);
  auto stanzas = of_kind(in.take_events(), s2s_event::kind::stanza);
  ASSERT_EQ(stanzas.size(), 1u);
  EXPECT_EQ(stanzas[0].stanza->ns(), "jabber:client");
  EXPECT_EQ(stanzas[0].stanza->child_text("jabber:client", "body"), "hi <&> \xc3\xa9");
  EXPECT_EQ(stanzas[0].stanza->attr("from"), "alice@junction.test/laptop");
  EXPECT_FALSE(in.closed());
}

TEST(S2sStream, TwoServersVerifyByDialbackAndCarryAStanza) { federate(false); }
TEST(S2sStream, TheSameSplitAtEveryByte) { federate(true); }

TEST(S2sStream, OutgoingStartsTlsWhenOfferedAndOnlyThenDialback) {
  s2s_stream out(settings("junction.test", "s", true), s2s_stream::role::outgoing, {}, "junction.test", "remote.test");
  out.take_output();
  out.receive("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
              "id='abc' from='remote.test' version='1.0'><stream:features><starttls "
              "xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>");
  EXPECT_EQ(out.take_output(), "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  out.receive("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  EXPECT_EQ(of_kind(out.take_events(), s2s_event::kind::starttls).size(), 1u);
  out.tls_started();
  EXPECT_TRUE(out.secure());
  EXPECT_NE(out.take_output().find("<stream:stream"), std::string::npos);  // a new stream
  out.ask_verify("their-stream", "k");  // waits for the stream to be usable
  EXPECT_EQ(out.take_output(), "");
  out.receive("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
              "xmlns:db='jabber:server:dialback' id='def' from='remote.test' version='1.0'><stream:features><dialback "
              "xmlns='urn:xmpp:features:dialback'/></stream:features>");
  const std::string sent = out.take_output();
  EXPECT_NE(sent.find(dialback_key("s", "remote.test", "junction.test", "def")), std::string::npos);
  EXPECT_NE(sent.find("<db:verify from='junction.test' to='remote.test' id='their-stream'>k</db:verify>"),
            std::string::npos);
  out.receive("<db:verify from='remote.test' to='junction.test' id='their-stream' type='valid'/>");
  auto answers = of_kind(out.take_events(), s2s_event::kind::verify_answer);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].valid);
  EXPECT_EQ(answers[0].id, "their-stream");
  out.receive("<db:result from='remote.test' to='junction.test' type='invalid'/>");
  auto closed = of_kind(out.take_events(), s2s_event::kind::closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_NE(closed[0].reason.find("did not accept"), std::string::npos);
}

TEST(S2sStream, OutgoingRefusesAPeerWithoutTlsWhenEncryptionIsRequired) {
  s2s_stream out(settings("junction.test", "s", true), s2s_stream::role::outgoing, {}, "junction.test", "remote.test");
  out.take_output();
  out.receive("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
              "id='abc' version='1.0'><stream:features/>");
  EXPECT_TRUE(out.closed());
  const std::string sent = out.take_output();
  EXPECT_NE(sent.find("policy-violation"), std::string::npos);
  EXPECT_EQ(sent.find("db:result"), std::string::npos);
}

// What an incoming stream answers to `after` sent after the header.
std::string incoming_answer(const std::string& after, bool encryption = false, const std::string& header = header_from_remote) {
  s2s_stream in(settings("junction.test", "s", encryption), s2s_stream::role::incoming, "id1");
  in.receive(header + after);
  return in.take_output();
}

TEST(S2sStream, IncomingRefusesWhatAnUnverifiedPeerSends) {
  const std::string message = "<message from='bob@remote.test' to='alice@junction.test'><body>x</body></message>";
  EXPECT_NE(incoming_answer(message).find("<not-authorized"), std::string::npos);
  // Encryption required: not even a dialback request before STARTTLS.
  const std::string required = incoming_answer("<db:result from='remote.test' to='junction.test'>k</db:result>", true);
  EXPECT_NE(required.find("<required/>"), std::string::npos);
  EXPECT_NE(required.find("<policy-violation"), std::string::npos);
  // A client's stream, another server's domain, a dialback request for a domain not served here.
  const std::string client_header =
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='junction.test' version='1.0'>";
  EXPECT_NE(incoming_answer("", false, client_header).find("<invalid-namespace"), std::string::npos);
  std::string elsewhere = header_from_remote;
  elsewhere.replace(elsewhere.find("to='junction.test'"), 18, "to='other.test'");
  EXPECT_NE(incoming_answer("", false, elsewhere).find("<host-unknown"), std::string::npos);
  EXPECT_NE(incoming_answer("<db:result from='remote.test' to='other.test'>k</db:result>").find("<host-unknown"),
            std::string::npos);
  EXPECT_NE(incoming_answer("<db:result from='junction.test' to='junction.test'>k</db:result>").find("<invalid-from"),
            std::string::npos);
  EXPECT_NE(incoming_answer("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'/>").find("policy-violation"),
            std::string::npos);
}

TEST(S2sStream, IncomingCarriesStanzasOnlyForTheVerifiedPair) {
  s2s_stream in(settings("junction.test", "s"), s2s_stream::role::incoming, "id1");
  in.receive(header_from_remote + "<db:result from='remote.test' to='junction.test'>key</db:result>");
  ASSERT_EQ(of_kind(in.take_events(), s2s_event::kind::verify_needed).size(), 1u);
  in.verified("remote.test", "junction.test", false);  // a verdict for a pair nobody claimed: ignored
  in.verified("junction.test", "remote.test", true);
  EXPECT_NE(in.take_output().find("<db:result from='junction.test' to='remote.test' type='valid'/>"), std::string::npos);
  in.receive("<presence from='bob@remote.test/x' to='alice@junction.test'/>");
  EXPECT_EQ(of_kind(in.take_events(), s2s_event::kind::stanza).size(), 1u);
  // Another domain on the same stream was never verified.
  in.receive("<message from='mallory@evil.test' to='alice@junction.test'><body>x</body></message>");
  EXPECT_TRUE(in.closed());
  EXPECT_NE(in.take_output().find("<invalid-from"), std::string::npos);
}

TEST(S2sStream, IncomingSaysInvalidWhenTheAuthorityDeniesTheKey) {
  s2s_stream in(settings("junction.test", "s"), s2s_stream::role::incoming, "id1");
  in.receive(header_from_remote + "<db:result from='remote.test' to='junction.test'>forged</db:result>");
  in.take_output();
  in.verified("junction.test", "remote.test", false);
  EXPECT_NE(in.take_output().find("type='invalid'"), std::string::npos);
  in.receive("<message from='bob@remote.test' to='alice@junction.test'><body>x</body></message>");
  EXPECT_TRUE(in.closed());
  EXPECT_NE(in.take_output().find("<not-authorized"), std::string::npos);
}

}  // namespace
}  // namespace junction::xmpp
