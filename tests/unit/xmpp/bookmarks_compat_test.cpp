#include "xmpp/bookmarks_compat.hpp"

#include <gtest/gtest.h>

#include "xml/stream_parser.hpp"

namespace junction::xmpp {
namespace {

xml::element parse(const std::string& text) { return *xml::parse_fragment(text, "jabber:client"); }
std::string xml_of(const xml::element& e) { return xml::to_string(e, "jabber:client"); }

// Applies an old client's write to the account's eventing service, as the router does.
std::vector<pep_change> apply(pep_account& pep, const legacy_bookmarks_write& w) {
  std::vector<pep_change> changes;
  for (auto request : w.requests) {
    request.set("from", "alice@example.com/old");
    auto a = pep.handle(request, pep_relation::owner);
    EXPECT_EQ(a.reply->attr("type"), "result") << xml_of(*a.reply);
    changes.insert(changes.end(), a.changes.begin(), a.changes.end());
  }
  return changes;
}

const std::string two_rooms =
    "<storage xmlns='storage:bookmarks'>"
    "<conference jid='council@conference.example.com' name='Council' autojoin='1'><nick>Puck</nick>"
    "<password>titania</password></conference>"
    "<conference jid='tea@conference.example.com' name='Tea &amp; cakes'><nick>Puck</nick></conference>"
    "<url name='Home' url='https://example.com/'/>"
    "<conference jid='not a jid@@'/><conference name='no jid'/>"
    "<conference jid='council@conference.example.com' name='twice'/>"
    "</storage>";

TEST(BookmarksCompat, AnOldClientsWriteMakesThePrivateNodeAndReadsBackTheSame) {
  pep_account pep;
  auto w = from_legacy_bookmarks(parse(two_rooms), nullptr);
  ASSERT_EQ(w.requests.size(), 2u);  // the bad and the repeated conferences left out
  // Only the first publish makes the node, as XEP-0402 configures it.
  EXPECT_NE(xml_of(w.requests[0]).find("publish-options"), std::string::npos);
  EXPECT_EQ(xml_of(w.requests[1]).find("publish-options"), std::string::npos);
  const auto changes = apply(pep, w);
  EXPECT_EQ(changes.size(), 3u);  // created, published, published
  const pep_node* node = pep.node(bookmarks_ns::node);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->config.access_model, pep_node_config::access::whitelist);
  EXPECT_FALSE(node->config.send_last);
  EXPECT_EQ(node->items.size(), 2u);
  EXPECT_EQ(xml_of(*node->items[0].item),
            "<item xmlns=\"http://jabber.org/protocol/pubsub\" id=\"council@conference.example.com\"><conference "
            "xmlns=\"urn:xmpp:bookmarks:1\" name=\"Council\" autojoin=\"true\"><nick>Puck</nick><password>titania"
            "</password></conference></item>");
  // What private storage keeps is the URL only; read back, the old client sees it all.
  EXPECT_EQ(xml_of(w.kept), "<storage xmlns=\"storage:bookmarks\"><url name=\"Home\" url=\"https://example.com/\"/></storage>");
  EXPECT_EQ(xml_of(legacy_bookmarks(node, &w.kept)),
            "<storage xmlns=\"storage:bookmarks\"><conference jid=\"council@conference.example.com\" name=\"Council\" "
            "autojoin=\"true\"><nick>Puck</nick><password>titania</password></conference><conference "
            "jid=\"tea@conference.example.com\" name=\"Tea &amp; cakes\" autojoin=\"false\"><nick>Puck</nick>"
            "</conference><url name=\"Home\" url=\"https://example.com/\"/></storage>");
  EXPECT_EQ(xml_of(legacy_bookmarks(nullptr, nullptr)), "<storage xmlns=\"storage:bookmarks\"/>");
}

TEST(BookmarksCompat, ASecondWriteChangesOnlyWhatChangedAndKeepsExtensions) {
  pep_account pep;
  apply(pep, from_legacy_bookmarks(parse(two_rooms), nullptr));
  // A new client adds an extension to the council's bookmark.
  auto ext = parse("<iq xmlns='jabber:client' type='set' id='n' from='alice@example.com/new'><pubsub "
                   "xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item "
                   "id='council@conference.example.com'><conference xmlns='urn:xmpp:bookmarks:1' name='Council' "
                   "autojoin='true'><nick>Puck</nick><password>titania</password><extensions><state "
                   "xmlns='urn:example'/></extensions></conference></item></publish></pubsub></iq>");
  ASSERT_EQ(pep.handle(ext, pep_relation::owner).reply->attr("type"), "result");
  // The old client writes again: the council renamed, tea gone, a new room.
  auto w = from_legacy_bookmarks(
      parse("<storage xmlns='storage:bookmarks'>"
            "<conference jid='council@conference.example.com' name='The Council' autojoin='true'><nick>Puck</nick>"
            "<password>titania</password></conference>"
            "<conference jid='new@conference.example.com'/></storage>"),
      pep.node(bookmarks_ns::node));
  ASSERT_EQ(w.requests.size(), 3u);  // publish council, publish new, retract tea
  EXPECT_EQ(xml_of(w.requests[0]).find("publish-options"), std::string::npos);  // the node is there
  EXPECT_NE(xml_of(w.requests[2]).find("<retract node=\"urn:xmpp:bookmarks:1\" notify=\"true\"><item "
                                       "id=\"tea@conference.example.com\"/>"),
            std::string::npos)
      << xml_of(w.requests[2]);
  const auto changes = apply(pep, w);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[2].what, pep_change::kind::retracted);
  EXPECT_TRUE(changes[2].notify);
  const pep_node* node = pep.node(bookmarks_ns::node);
  const auto& council = std::find_if(node->items.begin(), node->items.end(),
                                     [](const pep_item& i) { return i.id == "council@conference.example.com"; });
  ASSERT_NE(council, node->items.end());
  EXPECT_NE(xml_of(*council->item).find("name=\"The Council\""), std::string::npos);
  EXPECT_NE(xml_of(*council->item).find("<extensions><state xmlns=\"urn:example\"/></extensions>"), std::string::npos)
      << xml_of(*council->item);
  EXPECT_EQ(xml_of(w.kept), "<storage xmlns=\"storage:bookmarks\"/>");
  // The same write once more changes nothing.
  EXPECT_TRUE(from_legacy_bookmarks(parse("<storage xmlns='storage:bookmarks'><conference "
                                          "jid='council@conference.example.com' name='The Council' autojoin='true'>"
                                          "<nick>Puck</nick><password>titania</password></conference><conference "
                                          "jid='new@conference.example.com'/></storage>"),
                                    node)
                  .requests.empty());
}

}  // namespace
}  // namespace junction::xmpp
