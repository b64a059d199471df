#include "xml/stream_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace junction::xml {
namespace {

const std::string header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.com' version='1.0' xml:lang='en'>";

// Every event for `bytes` fed in pieces of `piece` bytes, written back as text.
// `release`: the parser is released (release_if_idle) after every piece, as a connection does
// before it waits; `releases` counts the times it was.
std::vector<std::string> events_of(const std::string& bytes, std::size_t piece, stream_limits limits = {},
                                   bool release = false, std::size_t* releases = nullptr) {
  stream_parser p(limits);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    if (release) {
      p.release_if_idle();
      if (releases && p.released()) ++*releases;
    }
    p.feed(std::string_view(bytes).substr(i, piece));
    while (auto e = p.next()) {
      switch (e->what) {
        case stream_event::kind::open:
          out.push_back("open " + e->node.ns() + " " + e->node.name() + " default=" + e->default_ns +
                        " to=" + std::string(e->node.attr("to")) + " lang=" +
                        std::string(e->node.attr(std::string(xml_ns) + " lang")));
          break;
        case stream_event::kind::stanza: out.push_back("stanza " + to_string(e->node, "jabber:client")); break;
        case stream_event::kind::close: out.push_back("close"); break;
        case stream_event::kind::error: out.push_back("error " + std::string(stream_error_condition(e->error))); break;
      }
    }
  }
  return out;
}

TEST(XmlStream, HeaderStanzasAndCloseAtEverySplit) {
  const std::string bytes = header +
                            "<message to='bob@example.com' type='chat'><body>Hi &amp; &lt;bye&gt; \xc3\xa9</body>"
                            "<x xmlns='urn:other'><y a=\"&quot;q&quot;\"/></x></message> \n "
                            "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>";
  const std::vector<std::string> expected{
      "open http://etherx.jabber.org/streams stream default=jabber:client to=example.com lang=en",
      "stanza <message to=\"bob@example.com\" type=\"chat\"><body>Hi &amp; &lt;bye&gt; \xc3\xa9</body><x "
      "xmlns=\"urn:other\"><y a=\"&quot;q&quot;\"/></x></message>",
      "stanza <iq type=\"get\" id=\"1\"><ping xmlns=\"urn:xmpp:ping\"/></iq>", "close"};
  for (std::size_t piece = 1; piece <= bytes.size(); ++piece) ASSERT_EQ(events_of(bytes, piece), expected) << piece;
}

TEST(XmlStream, AParserReleasedBetweenStanzasReadsOnAsIfNothingHappened) {
  const std::string bytes = header +
                            "<message to='bob@example.com' type='chat'><body>Hi &amp; \xc3\xa9</body></message> \n "
                            "<s:iq xmlns:s='jabber:client' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></s:iq> "
                            "<presence/></stream:stream>";
  const auto expected = events_of(bytes, bytes.size());
  ASSERT_EQ(expected.size(), 5u);
  std::size_t releases = 0;
  for (std::size_t piece = 1; piece <= bytes.size(); ++piece)
    ASSERT_EQ(events_of(bytes, piece, {}, true, &releases), expected) << piece;
  EXPECT_GT(releases, 0u);
  // A root without a prefix, as WebSocket's framing gives it; a stream that fails after a release.
  const std::string plain = "<stream xmlns='jabber:client'><message><body>a</body></message><message/>";
  EXPECT_EQ(events_of(plain, 1, {}, true), events_of(plain, plain.size()));
  const std::string broken = header + "<message/><message></iq>";
  EXPECT_EQ(events_of(broken, 1, {}, true), events_of(broken, broken.size()));
  // Not released inside a stanza, nor before the header; a restart after a release starts anew.
  stream_parser p;
  p.feed(header + "<message><body>");
  while (p.next()) {
  }
  p.release_if_idle();
  EXPECT_FALSE(p.released());
  stream_parser q;
  q.release_if_idle();
  EXPECT_FALSE(q.released());
  q.feed(header + "<a/>");
  while (q.next()) {
  }
  q.release_if_idle();
  ASSERT_TRUE(q.released());
  q.restart();
  q.feed(header + "<b/>");
  auto open = q.next();
  ASSERT_TRUE(open);
  EXPECT_EQ(open->what, stream_event::kind::open);
  auto b = q.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->node.name(), "b");
}

TEST(XmlStream, PrefixedNamespacesResolve) {
  const auto events = events_of(header + "<c:message xmlns:c='jabber:client'><c:body>x</c:body></c:message>", 7);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], "stanza <message><body>x</body></message>");
}

TEST(XmlStream, DtdsCommentsAndInstructionsAreRestricted) {
  for (const std::string& bad :
       {std::string("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;'>]>"
                    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"),
        header + "<!-- hello -->", header + "<?target data?>"}) {
    const auto events = events_of(bad, 5);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "error restricted-xml") << bad;
  }
}

TEST(XmlStream, MalformedXmlEndsTheStream) {
  auto events = events_of(header + "<message><body></message>", 3);
  EXPECT_EQ(events.back(), "error not-well-formed");
  events = events_of(header + "<message a='1' a='2'/>", 3);
  EXPECT_EQ(events.back(), "error not-well-formed");
  events = events_of(header + "hello", 3);
  EXPECT_EQ(events.back(), "error not-well-formed");
}

TEST(XmlStream, LimitsAreEnforcedWhileBytesArrive) {
  stream_limits limits;
  limits.max_stanza_bytes = 1000;
  limits.max_depth = 8;
  limits.max_attributes = 4;
  // A stanza that grows past the limit is refused before it ends.
  std::string big = header + "<message><body>" + std::string(5000, 'a');
  auto events = events_of(big, 256, limits);
  EXPECT_EQ(events.back(), "error policy-violation");
  // So is a start tag that never ends.
  events = events_of(header + "<message a='" + std::string(5000, 'a'), 256, limits);
  EXPECT_EQ(events.back(), "error policy-violation");
  std::string deep = header;
  for (int i = 0; i < 20; ++i) deep += "<a>";
  events = events_of(deep, 10, limits);
  EXPECT_EQ(events.back(), "error policy-violation");
  events = events_of(header + "<message a='1' b='2' c='3' d='4' e='5'/>", 10, limits);
  EXPECT_EQ(events.back(), "error policy-violation");
  // Many stanzas each under the limit are fine, and so is whitespace between them.
  std::string many = header;
  for (int i = 0; i < 100; ++i) many += "<message><body>" + std::string(500, 'b') + "</body></message>\n";
  events = events_of(many, 300, limits);
  EXPECT_EQ(events.size(), 101u);
  EXPECT_EQ(events.back().substr(0, 6), "stanza");
}

TEST(XmlStream, NothingFollowsAnError) {
  stream_parser p;
  p.feed(header + "<a></b><message/>");
  std::vector<stream_event::kind> kinds;
  while (auto e = p.next()) kinds.push_back(e->what);
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[1], stream_event::kind::error);
  p.feed("<message/>");
  EXPECT_FALSE(p.next());
  EXPECT_TRUE(p.failed());
}

TEST(XmlStream, ARestartReadsWhatFollowsAsANewStream) {
  // The client sends its new header in the same packet as the stanza that ends the old stream.
  stream_parser p;
  p.feed(header + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>x</auth>" + header + "<iq type='set' id='b'/>");
  auto open = p.next();
  ASSERT_TRUE(open);
  EXPECT_EQ(open->what, stream_event::kind::open);
  auto auth = p.next();
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->node.name(), "auth");
  p.restart();
  auto reopened = p.next();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->what, stream_event::kind::open);
  auto iq = p.next();
  ASSERT_TRUE(iq);
  EXPECT_EQ(iq->node.name(), "iq");
  EXPECT_EQ(iq->node.attr("id"), "b");
}

TEST(XmlElement, WritesNamespacesWhereTheyChangeAndEscapes) {
  element m("jabber:client", "message");
  m.set("to", "a&b\"c'");
  m.add("jabber:client", "body").add_text("<&>\"'");
  m.add("urn:x", "x").add("urn:x", "y").set(std::string(xml_ns) + " lang", "en");
  EXPECT_EQ(to_string(m, "jabber:client"),
            "<message to=\"a&amp;b&quot;c&apos;\"><body>&lt;&amp;&gt;\"'</body><x xmlns=\"urn:x\"><y "
            "xml:lang=\"en\"/></x></message>");
  EXPECT_EQ(m.child_text("jabber:client", "body"), "<&>\"'");
  EXPECT_EQ(m.child_in("urn:x")->name(), "x");
}

}  // namespace
}  // namespace junction::xml
