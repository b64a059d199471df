#include "xmpp/pep_account.hpp"

#include <gtest/gtest.h>

#include "xml/stream_parser.hpp"
#include "xmpp/server_caps.hpp"

namespace junction::xmpp {
namespace {

xml::element parse(const std::string& text) { return *xml::parse_fragment(text, "jabber:client"); }
std::string xml_of(const xml::element& e) { return xml::to_string(e, "jabber:client"); }

xml::element publish(std::string_view node, std::string_view id, std::string_view payload, std::string_view options = {}) {
  std::string s = "<iq xmlns='jabber:client' type='set' id='p' from='alice@example.com/a'><pubsub "
                  "xmlns='http://jabber.org/protocol/pubsub'><publish node='" + std::string(node) + "'><item" +
                  (id.empty() ? std::string() : " id='" + std::string(id) + "'") + ">" + std::string(payload) +
                  "</item></publish>";
  if (!options.empty())
    s += "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>"
         "http://jabber.org/protocol/pubsub#publish-options</value></field>" + std::string(options) + "</x></publish-options>";
  return parse(s + "</pubsub></iq>");
}

xml::element items(std::string_view node, std::string_view extra = {}) {
  return parse("<iq xmlns='jabber:client' type='get' id='g' from='bob@example.com/b'><pubsub "
               "xmlns='http://jabber.org/protocol/pubsub'><items node='" + std::string(node) + "'" + std::string(extra) +
               "/></pubsub></iq>");
}

std::string field(std::string_view var, std::string_view value) {
  return "<field var='" + std::string(var) + "'><value>" + std::string(value) + "</value></field>";
}

const std::string tune = "<tune xmlns='http://jabber.org/protocol/tune'><artist>Yes</artist></tune>";

TEST(PepAccount, APublishCreatesTheNodeAndItsEventCarriesTheItem) {
  pep_account pep;
  auto a = pep.handle(publish("http://jabber.org/protocol/tune", "t1", tune), pep_relation::owner);
  EXPECT_EQ(a.reply->attr("type"), "result");
  EXPECT_NE(xml_of(*a.reply).find("<item id=\"t1\"/>"), std::string::npos);
  ASSERT_EQ(a.changes.size(), 2u);
  EXPECT_EQ(a.changes[0].what, pep_change::kind::created);
  EXPECT_EQ(a.changes[1].what, pep_change::kind::published);
  auto event = pep.event_for(a.changes[1]);
  ASSERT_TRUE(event);
  const std::string text = xml_of(*event);
  EXPECT_NE(text.find("<event xmlns=\"http://jabber.org/protocol/pubsub#event\"><items node=\"http://jabber.org/protocol/tune\"><item id=\"t1\"><tune"), std::string::npos) << text;
  EXPECT_EQ(pep.event_for(a.changes[0]), nullptr);
}

TEST(PepAccount, OnlyTheOwnerPublishesAndOnlySubscribersReadAPresenceNode) {
  pep_account pep;
  EXPECT_EQ(pep.handle(publish("n", "1", tune), pep_relation::subscriber).reply->attr("type"), "error");
  pep.handle(publish("n", "1", tune), pep_relation::owner);
  auto ok = pep.handle(items("n"), pep_relation::subscriber);
  EXPECT_NE(xml_of(*ok.reply).find("<artist>Yes</artist>"), std::string::npos);
  auto refused = pep.handle(items("n"), pep_relation::stranger);
  EXPECT_NE(xml_of(*refused.reply).find("presence-subscription-required"), std::string::npos);
  EXPECT_EQ(pep.handle(items("missing"), pep_relation::owner).reply->child("jabber:client", "error")->children().front().name(),
            "item-not-found");
}

TEST(PepAccount, OneItemIsKeptByDefaultAndMaxKeepsMany) {
  pep_account pep;
  pep.handle(publish("n", "1", tune), pep_relation::owner);
  auto second = pep.handle(publish("n", "2", tune), pep_relation::owner);
  ASSERT_EQ(second.changes.size(), 2u);
  EXPECT_EQ(second.changes[1].what, pep_change::kind::dropped);
  EXPECT_EQ(second.changes[1].item_id, "1");
  EXPECT_EQ(pep.node("n")->items.size(), 1u);

  const std::string options = field("pubsub#max_items", "max") + field("pubsub#access_model", "whitelist") +
                              field("pubsub#send_last_published_item", "never");
  for (std::string id : {"a", "b", "c"})
    EXPECT_EQ(pep.handle(publish("urn:xmpp:bookmarks:1", id, tune, options), pep_relation::owner).reply->attr("type"), "result");
  EXPECT_EQ(pep.node("urn:xmpp:bookmarks:1")->items.size(), 3u);
  // Newest first, and at most max_items of them.
  auto two = pep.handle(items("urn:xmpp:bookmarks:1", " max_items='2'"), pep_relation::owner);
  const std::string text = xml_of(*two.reply);
  EXPECT_LT(text.find("id=\"c\""), text.find("id=\"b\""));
  EXPECT_EQ(text.find("id=\"a\""), std::string::npos);
  // Whitelist: nobody but the owner, not even a subscriber; and no last item to new recipients.
  EXPECT_EQ(pep.handle(items("urn:xmpp:bookmarks:1"), pep_relation::subscriber).reply->attr("type"), "error");
  EXPECT_EQ(pep.last_items(pep_relation::owner).size(), 1u);  // only node "n"
}

TEST(PepAccount, PublishOptionsThatDifferFromTheNodeAreAPreconditionNotMet) {
  pep_account pep;
  pep.handle(publish("n", "1", tune), pep_relation::owner);
  auto a = pep.handle(publish("n", "2", tune, field("pubsub#access_model", "open")), pep_relation::owner);
  EXPECT_EQ(a.reply->attr("type"), "error");
  EXPECT_NE(xml_of(*a.reply).find("precondition-not-met"), std::string::npos);
  EXPECT_TRUE(a.changes.empty());
  auto same = pep.handle(publish("n", "2", tune, field("pubsub#access_model", "presence")), pep_relation::owner);
  EXPECT_EQ(same.reply->attr("type"), "result");
}

TEST(PepAccount, TheSameIdReplacesTheItemAndRetractionIsToldOnlyWhenAsked) {
  pep_account pep;
  pep.handle(publish("n", "x", tune, field("pubsub#max_items", "10")), pep_relation::owner);
  pep.handle(publish("n", "y", tune, field("pubsub#max_items", "10")), pep_relation::owner);
  pep.handle(publish("n", "x", "<a xmlns='urn:a'>new</a>", field("pubsub#max_items", "10")), pep_relation::owner);
  const auto* n = pep.node("n");
  ASSERT_EQ(n->items.size(), 2u);
  EXPECT_EQ(n->items.back().id, "x");
  EXPECT_NE(n->items.back().text.find("new"), std::string::npos);
  auto quiet = pep.handle(parse("<iq xmlns='jabber:client' type='set' id='r'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                                "<retract node='n'><item id='y'/></retract></pubsub></iq>"),
                          pep_relation::owner);
  ASSERT_EQ(quiet.changes.size(), 1u);
  EXPECT_EQ(pep.event_for(quiet.changes[0]), nullptr);
  auto told = pep.handle(parse("<iq xmlns='jabber:client' type='set' id='r'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                               "<retract node='n' notify='true'><item id='x'/></retract></pubsub></iq>"),
                         pep_relation::owner);
  ASSERT_EQ(told.changes.size(), 1u);
  EXPECT_NE(xml_of(*pep.event_for(told.changes[0])).find("<retract id=\"x\"/>"), std::string::npos);
  EXPECT_EQ(pep.bytes(), 0u);
}

TEST(PepAccount, LimitsOnNodesAndBytesRefuseWithoutChangingAnything) {
  pep_account pep({.max_nodes = 2, .max_items = 10, .max_bytes = 300, .max_id = 16});
  EXPECT_EQ(pep.handle(publish("a", "1", tune), pep_relation::owner).reply->attr("type"), "result");
  EXPECT_EQ(pep.handle(publish("b", "1", tune), pep_relation::owner).reply->attr("type"), "result");
  EXPECT_NE(xml_of(*pep.handle(publish("c", "1", tune), pep_relation::owner).reply).find("resource-constraint"),
            std::string::npos);
  const std::string big = "<b xmlns='urn:b'>" + std::string(400, 'x') + "</b>";
  auto over = pep.handle(publish("a", "2", big), pep_relation::owner);
  EXPECT_NE(xml_of(*over.reply).find("resource-constraint"), std::string::npos);
  EXPECT_EQ(pep.node("a")->items.front().id, "1");
  EXPECT_EQ(pep.handle(publish(std::string(17, 'n'), "1", tune), pep_relation::owner).reply->attr("type"), "error");
  // Two payloads, none, or no item: bad requests.
  EXPECT_EQ(pep.handle(publish("a", "3", tune + tune), pep_relation::owner).reply->attr("type"), "error");
  EXPECT_EQ(pep.handle(publish("a", "3", ""), pep_relation::owner).reply->attr("type"), "error");
}

TEST(PepAccount, TheOwnerConfiguresPurgesAndDeletesNodes) {
  pep_account pep;
  pep.handle(publish("n", "1", tune), pep_relation::owner);
  auto form = pep.handle(parse("<iq xmlns='jabber:client' type='get' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>"
                               "<configure node='n'/></pubsub></iq>"),
                         pep_relation::owner);
  EXPECT_NE(xml_of(*form.reply).find("pubsub#access_model"), std::string::npos);
  auto set = pep.handle(parse("<iq xmlns='jabber:client' type='set' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>"
                              "<configure node='n'><x xmlns='jabber:x:data' type='submit'>" +
                              field("pubsub#access_model", "open") + "</x></configure></pubsub></iq>"),
                        pep_relation::owner);
  EXPECT_EQ(set.reply->attr("type"), "result");
  EXPECT_EQ(pep.node("n")->config.access_model, pep_node_config::access::open);
  EXPECT_EQ(pep.handle(items("n"), pep_relation::stranger).reply->attr("type"), "result");
  EXPECT_EQ(pep.visible_nodes(pep_relation::stranger), std::vector<std::string>{"n"});
  auto del = pep.handle(parse("<iq xmlns='jabber:client' type='set' id='d'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>"
                              "<delete node='n'/></pubsub></iq>"),
                        pep_relation::owner);
  ASSERT_EQ(del.changes.size(), 1u);
  EXPECT_EQ(del.changes[0].what, pep_change::kind::deleted);
  EXPECT_EQ(pep.node("n"), nullptr);
  EXPECT_EQ(pep.bytes(), 0u);
}

TEST(PepAccount, WhatTheStoreKeptIsReadBackInOrder) {
  pep_account first;
  first.handle(publish("n", "1", tune, field("pubsub#max_items", "5")), pep_relation::owner);
  first.handle(publish("n", "2", tune, field("pubsub#max_items", "5")), pep_relation::owner);
  pep_account again;
  const auto* n = first.node("n");
  again.adopt("n", pep_node_config::parse(n->config.text()));
  for (const auto& i : n->items) again.adopt_item("n", i.id, i.text);
  EXPECT_EQ(again.node("n")->config, n->config);
  ASSERT_EQ(again.node("n")->items.size(), 2u);
  EXPECT_EQ(again.node("n")->items.back().id, "2");
  EXPECT_EQ(again.bytes(), first.bytes());
  again.adopt_item("n", "bad", "<not-an-item/>");
  EXPECT_EQ(again.node("n")->items.size(), 2u);
}

}  // namespace
}  // namespace junction::xmpp

namespace junction::xmpp {
namespace {

// XEP-0115 §5.3, the complex generation example: two identities with languages, features and an
// extended form.
TEST(CapsVersion, TheComplexExampleOfXep0115) {
  const auto query = *xml::parse_fragment(
      "<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
      "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
      "<identity xml:lang='el' category='client' name='&#936; 0.11' type='pc'/>"
      "<feature var='http://jabber.org/protocol/caps'/><feature var='http://jabber.org/protocol/disco#info'/>"
      "<feature var='http://jabber.org/protocol/disco#items'/><feature var='http://jabber.org/protocol/muc'/>"
      "<x xmlns='jabber:x:data' type='result'>"
      "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
      "<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>"
      "<field var='os'><value>Mac</value></field><field var='os_version'><value>10.5.1</value></field>"
      "<field var='software'><value>Psi</value></field><field var='software_version'><value>0.11</value></field>"
      "</x></query>",
      "jabber:client");
  EXPECT_EQ(caps_ver_of(query), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

}  // namespace
}  // namespace junction::xmpp
