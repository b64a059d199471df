#include "xmpp/muc_room.hpp"

#include <gtest/gtest.h>

#include "xml/stream_parser.hpp"

namespace junction::xmpp {
namespace {

const jid room_jid = *jid::parse("room@conference.example.com");
const jid alice = *jid::parse("alice@example.com/a");
const jid bob = *jid::parse("bob@example.com/b");
const jid carol = *jid::parse("carol@example.com/c");
const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

xml::element parse(const std::string& text) { return *xml::parse_fragment(text, "jabber:client"); }

std::string xml_of(const muc_room::out& out) {
  std::string s;
  for (const auto& e : out) s += xml::to_string(*e, "jabber:client") + "\n";
  return s;
}

std::vector<std::string> recipients(const muc_room::out& out) {
  std::vector<std::string> r;
  for (const auto& e : out) r.emplace_back(e->attr("to"));
  return r;
}

xml::element join_presence(std::string_view nick, std::string_view extra = {}) {
  return parse("<presence xmlns='jabber:client' to='room@conference.example.com/" + std::string(nick) +
               "'><x xmlns='http://jabber.org/protocol/muc'>" + std::string(extra) + "</x></presence>");
}

// A room made by alice and unlocked with the default configuration.
muc_room open_room(muc_config c = {}) {
  muc_room r(room_jid, alice.bare(), c);
  r.presence(alice, join_presence("Alice"), t0);
  auto out = r.iq(alice, parse("<iq xmlns='jabber:client' type='set' id='c' to='room@conference.example.com'>"
                               "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
                               "type='submit'/></query></iq>"));
  EXPECT_EQ(out.back()->attr("type"), "result");
  EXPECT_FALSE(r.locked());
  return r;
}

TEST(MucRoom, ANewRoomIsLockedUntilItsOwnerConfiguresIt) {
  muc_room r(room_jid, alice.bare(), {});
  auto created = r.presence(alice, join_presence("Alice"), t0);
  EXPECT_NE(xml_of(created).find("<status code=\"201\"/>"), std::string::npos);
  EXPECT_NE(xml_of(created).find("<status code=\"110\"/>"), std::string::npos);
  EXPECT_NE(xml_of(created).find("affiliation=\"owner\" role=\"moderator\""), std::string::npos);
  auto refused = r.presence(bob, join_presence("Bob"), t0);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(xml_of(refused).find("<item-not-found"), std::string::npos);
  EXPECT_TRUE(r.locked());
}

TEST(MucRoom, ANewcomerGetsTheOccupantsItselfTheHistoryAndTheSubjectInThatOrder) {
  muc_room r = open_room();
  r.message(alice, parse("<message xmlns='jabber:client' type='groupchat' to='room@conference.example.com'>"
                         "<subject>topic</subject></message>"),
            t0);
  for (int i = 0; i < 5; ++i)
    r.message(alice, parse("<message xmlns='jabber:client' type='groupchat' to='room@conference.example.com'><body>m" +
                           std::to_string(i) + "</body></message>"),
              t0 + std::chrono::seconds(i));
  auto out = r.presence(bob, join_presence("Bob", "<history maxstanzas='2'/>"), t0 + std::chrono::seconds(10));
  const std::string text = xml_of(out);
  // alice's presence to bob, bob's to bob and to alice, two messages, the subject.
  ASSERT_EQ(out.size(), 6u) << text;
  EXPECT_EQ(out[0]->attr("from"), "room@conference.example.com/Alice");
  EXPECT_EQ(out[0]->attr("to"), bob.str());
  EXPECT_EQ(recipients(out)[1] + recipients(out)[2], alice.str() + bob.str());
  EXPECT_EQ(out[3]->child_text("jabber:client", "body"), "m3");
  EXPECT_EQ(out[4]->child_text("jabber:client", "body"), "m4");
  EXPECT_NE(xml::to_string(*out[4]).find("urn:xmpp:delay"), std::string::npos);
  EXPECT_EQ(out[5]->child_text("jabber:client", "subject"), "topic");
  // Semi-anonymous: bob does not see alice's JID; alice (a moderator) sees bob's.
  EXPECT_EQ(xml::to_string(*out[0]).find("jid="), std::string::npos);
  const auto& to_alice = out[1]->attr("to") == alice.str() ? out[1] : out[2];
  EXPECT_NE(xml::to_string(*to_alice).find("jid=\"bob@example.com/b\""), std::string::npos);
  // A taken nick is a conflict.
  auto conflict = r.presence(carol, join_presence("Bob"), t0);
  EXPECT_NE(xml_of(conflict).find("<conflict"), std::string::npos);
}

TEST(MucRoom, MessagesGoToEveryOccupantAndPrivatelyToOne) {
  muc_room r = open_room();
  r.presence(bob, join_presence("Bob"), t0);
  auto all = r.message(bob, parse("<message xmlns='jabber:client' type='groupchat' to='room@conference.example.com'>"
                                  "<body>hi</body></message>"),
                       t0);
  EXPECT_EQ(all.size(), 2u);
  for (const auto& m : all) EXPECT_EQ(m->attr("from"), "room@conference.example.com/Bob");
  auto one = r.message(bob, parse("<message xmlns='jabber:client' type='chat' to='room@conference.example.com/Alice'>"
                                  "<body>psst</body></message>"),
                       t0);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]->attr("to"), alice.str());
  EXPECT_EQ(one[0]->attr("from"), "room@conference.example.com/Bob");
  auto outsider = r.message(carol, parse("<message xmlns='jabber:client' type='groupchat' "
                                         "to='room@conference.example.com'><body>x</body></message>"),
                            t0);
  EXPECT_NE(xml_of(outsider).find("<not-acceptable"), std::string::npos);
}

TEST(MucRoom, AnArchivingRoomStampsWhatItKeepsAndSaysWhoMayReadIt) {
  muc_room r = open_room();
  r.presence(bob, join_presence("Bob"), t0);
  const auto said = [&](std::string_view body, std::string_view id) {
    return r.message(bob, parse("<message xmlns='jabber:client' type='groupchat' to='room@conference.example.com'>"
                                "<body>" + std::string(body) + "</body><stanza-id xmlns='urn:xmpp:sid:0' "
                                "by='room@conference.example.com' id='forged'/></message>"),
                     t0, id);
  };
  // Not archiving: no id, nothing to keep (and a forged stanza-id in the room's name dropped).
  auto plain = said("one", "a1");
  EXPECT_EQ(xml_of(plain).find("stanza-id"), std::string::npos) << xml_of(plain);
  EXPECT_EQ(r.take_archived(), nullptr);
  r.set_archiving(true);
  auto kept = said("two", "a2");
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& m : kept) {
    const auto* sid = m->child("urn:xmpp:sid:0", "stanza-id");
    ASSERT_NE(sid, nullptr);
    EXPECT_EQ(sid->attr("id"), "a2");
    EXPECT_EQ(sid->attr("by"), "room@conference.example.com");
  }
  EXPECT_EQ(xml_of(kept).find("forged"), std::string::npos);
  const auto archived = r.take_archived();
  ASSERT_NE(archived, nullptr);
  EXPECT_EQ(archived->attr("from"), "room@conference.example.com/Bob");
  EXPECT_FALSE(archived->has("to"));
  EXPECT_EQ(r.take_archived(), nullptr);  // taken once
  // A subject, a private message and a refused one are not kept.
  r.message(bob, parse("<message xmlns='jabber:client' type='chat' to='room@conference.example.com/Alice'>"
                       "<body>psst</body></message>"), t0, "a3");
  r.message(carol, parse("<message xmlns='jabber:client' type='groupchat' to='room@conference.example.com'>"
                         "<body>x</body></message>"), t0, "a4");
  EXPECT_EQ(r.take_archived(), nullptr);
  // The disco#info says so.
  auto info = r.iq(bob, parse("<iq xmlns='jabber:client' type='get' id='d' from='bob@example.com/b' "
                              "to='room@conference.example.com'>"
                              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>"));
  EXPECT_NE(xml_of(info).find("urn:xmpp:mam:2"), std::string::npos);
  // Who may read: an open room, anyone not banned.
  EXPECT_TRUE(r.may_read_archive(carol));
  muc_config members;
  members.members_only = true;
  muc_room club(room_jid, members, {{"alice@example.com", muc_affiliation::owner},
                                    {"bob@example.com", muc_affiliation::member},
                                    {"carol@example.com", muc_affiliation::outcast}});
  EXPECT_TRUE(club.may_read_archive(alice));
  EXPECT_TRUE(club.may_read_archive(bob));
  EXPECT_FALSE(club.may_read_archive(carol));
  EXPECT_FALSE(club.may_read_archive(*jid::parse("dave@example.com/d")));
}

TEST(MucRoom, ModeratorsKickAndAdminsBanAndOnlyThey) {
  muc_room r = open_room();
  r.presence(bob, join_presence("Bob"), t0);
  r.presence(carol, join_presence("Carol"), t0);
  // bob (a participant) may not kick carol.
  auto denied = r.iq(bob, parse("<iq xmlns='jabber:client' type='set' id='k' to='room@conference.example.com'><query "
                                "xmlns='http://jabber.org/protocol/muc#admin'><item nick='Carol' role='none'/></query></iq>"));
  EXPECT_NE(xml_of(denied).find("<not-allowed"), std::string::npos);
  auto kicked = r.iq(alice, parse("<iq xmlns='jabber:client' type='set' id='k' to='room@conference.example.com'><query "
                                  "xmlns='http://jabber.org/protocol/muc#admin'><item nick='Carol' "
                                  "role='none'><reason>bye</reason></item></query></iq>"));
  EXPECT_NE(xml_of(kicked).find("<status code=\"307\"/>"), std::string::npos);
  EXPECT_NE(xml_of(kicked).find("<reason>bye</reason>"), std::string::npos);
  EXPECT_EQ(r.occupants(), 2u);
  auto banned = r.iq(alice, parse("<iq xmlns='jabber:client' type='set' id='b' to='room@conference.example.com'><query "
                                  "xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@example.com' "
                                  "affiliation='outcast'/></query></iq>"));
  EXPECT_NE(xml_of(banned).find("<status code=\"301\"/>"), std::string::npos);
  EXPECT_TRUE(r.take_changed());
  EXPECT_NE(xml_of(r.presence(bob, join_presence("Bob"), t0)).find("<forbidden"), std::string::npos);
  // The last owner cannot give ownership away.
  auto last = r.iq(alice, parse("<iq xmlns='jabber:client' type='set' id='o' to='room@conference.example.com'><query "
                                "xmlns='http://jabber.org/protocol/muc#admin'><item jid='alice@example.com' "
                                "affiliation='member'/></query></iq>"));
  EXPECT_NE(xml_of(last).find("<conflict"), std::string::npos);
}

TEST(MucRoom, MembersOnlyPasswordsInvitationsAndNickChanges) {
  muc_config c;
  c.members_only = true;
  c.password = "secret";
  muc_room r = open_room(c);
  EXPECT_NE(xml_of(r.presence(bob, join_presence("Bob"), t0)).find("<registration-required"), std::string::npos);
  auto invite = r.message(alice, parse("<message xmlns='jabber:client' to='room@conference.example.com'><x "
                                       "xmlns='http://jabber.org/protocol/muc#user'><invite "
                                       "to='bob@example.com'><reason>come</reason></invite></x></message>"),
                          t0);
  ASSERT_EQ(invite.size(), 1u);
  EXPECT_EQ(invite[0]->attr("to"), "bob@example.com");
  EXPECT_NE(xml_of(invite).find("<password>secret</password>"), std::string::npos);
  EXPECT_NE(xml_of(invite).find("jabber:x:conference"), std::string::npos);
  EXPECT_NE(xml_of(r.presence(bob, join_presence("Bob"), t0)).find("<not-authorized"), std::string::npos);
  EXPECT_EQ(r.presence(bob, join_presence("Bob", "<password>secret</password>"), t0).size(), 4u);
  auto renamed = r.presence(bob, parse("<presence xmlns='jabber:client' to='room@conference.example.com/Robert'/>"), t0);
  EXPECT_NE(xml_of(renamed).find("<status code=\"303\"/>"), std::string::npos);
  EXPECT_NE(xml_of(renamed).find("nick=\"Robert\""), std::string::npos);
  auto left = r.presence(bob, parse("<presence xmlns='jabber:client' type='unavailable' "
                                    "to='room@conference.example.com/Robert'/>"),
                         t0);
  EXPECT_EQ(left.size(), 2u);
  EXPECT_EQ(r.occupants(), 1u);
}

TEST(MucRoom, TheOwnerDestroysTheRoomAndItsConfigurationSurvivesAsText) {
  muc_config c;
  c.name = "Name with = sign";
  c.persistent = true;
  c.moderated = true;
  c.max_history = 7;
  muc_room r = open_room(c);
  r.iq(alice, parse("<iq xmlns='jabber:client' type='set' id='a' to='room@conference.example.com'><query "
                    "xmlns='http://jabber.org/protocol/muc#admin'><item jid='bob@example.com' "
                    "affiliation='admin'/></query></iq>"));
  EXPECT_EQ(muc_config_from(muc_config_text(r.config())), r.config());
  EXPECT_EQ(muc_affiliations_from(muc_affiliations_text(r.affiliations())), r.affiliations());
  auto gone = r.iq(alice, parse("<iq xmlns='jabber:client' type='set' id='d' to='room@conference.example.com'><query "
                                "xmlns='http://jabber.org/protocol/muc#owner'><destroy><reason>done</reason></destroy>"
                                "</query></iq>"));
  EXPECT_NE(xml_of(gone).find("<destroy><reason>done</reason></destroy>"), std::string::npos);
  EXPECT_TRUE(r.disposable());
}

}  // namespace
}  // namespace junction::xmpp
