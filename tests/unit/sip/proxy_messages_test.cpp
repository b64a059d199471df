#include "sip/proxy_messages.hpp"

#include <gtest/gtest.h>

#include "message_helpers.hpp"
#include "sip/parser.hpp"

namespace junction::sip {
namespace {

message parsed(const std::string& text) {
  parse_result r = parse_message(text, parse_limits{}, true);
  EXPECT_TRUE(r.ok()) << r.reason() << "\n" << text;
  return std::move(*r.msg);
}

const std::string sent_invite = test::crlf(
    "INVITE sip:bob@192.0.2.9:5072 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-j1-abc\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5071;branch=z9hG4bK-caller\n"
    "Route: <sip:edge.example.com;lr>\n"
    "Max-Forwards: 69\n"
    "From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>\n"
    "Call-ID: call-1\nCSeq: 7 INVITE\nContent-Length: 0\n\n");

TEST(ProxyMessages, BranchesNameTheirShard) {
  std::string b = make_branch(3, 0xbeef);
  EXPECT_TRUE(b.starts_with("z9hG4bK"));
  EXPECT_EQ(shard_of_branch(b), 3u);
  EXPECT_FALSE(shard_of_branch("z9hG4bK-caller"));
  EXPECT_FALSE(shard_of_branch("z9hG4bK-jx-1"));
  EXPECT_NE(make_branch(3, 1), make_branch(3, 2));
}

TEST(ProxyMessages, AckOfAFailureCopiesTheInviteAndTheResponseTo) {
  message invite = parsed(sent_invite);
  message busy = parsed(test::crlf(
      "SIP/2.0 486 Busy Here\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-j1-abc\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5071;branch=z9hG4bK-caller\n"
      "From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>;tag=b9\n"
      "Call-ID: call-1\nCSeq: 7 INVITE\nContent-Length: 0\n\n"));
  message ack = parsed(make_ack(invite, busy));
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.request_uri_text(), "sip:bob@192.0.2.9:5072");
  ASSERT_EQ(ack.vias().size(), 1u);  // only the proxy's own Via: the ACK is hop by hop
  EXPECT_EQ(ack.top_via().branch(), "z9hG4bK-j1-abc");
  EXPECT_EQ(ack.to().tag(), "b9");
  EXPECT_EQ(ack.cseq(), 7u);
  EXPECT_EQ(ack.cseq_method(), "ACK");
  EXPECT_EQ(ack.value(header_id::route), "<sip:edge.example.com;lr>");
  EXPECT_EQ(server_key(ack), server_key(invite));  // an ACK finds the INVITE's transaction
}

TEST(ProxyMessages, CancelMatchesTheInviteItCancels) {
  message invite = parsed(sent_invite);
  message cancel = parsed(make_cancel(invite));
  EXPECT_EQ(cancel.method(), "CANCEL");
  EXPECT_EQ(cancel.top_via().branch(), invite.top_via().branch());
  EXPECT_EQ(cancel.to().tag(), "");
  EXPECT_EQ(server_key(cancel, "INVITE"), server_key(invite));
  EXPECT_EQ(client_key(cancel.top_via().branch(), "CANCEL"), "z9hG4bK-j1-abc|CANCEL");
}

// The proxy keeps the message it edited and sent (not one parsed back from the wire): ACK and
// CANCEL take its header fields, so they carry its Via, Request-URI and Route set.
TEST(ProxyMessages, AckAndCancelOfAnEditedRequestCarryTheEdits) {
  message edited = parsed(test::crlf(
      "INVITE sip:bob@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5071;branch=z9hG4bK-caller\n"
      "From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>\n"
      "Call-ID: call-1\nCSeq: 7 INVITE\nContent-Length: 0\n\n"));
  edited.set_request_uri("sip:bob@192.0.2.9:5072");
  edited.append(header_id::route, "<sip:edge.example.com;lr>");
  edited.push_front(header_id::via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-j1-abc");
  message cancel = parsed(make_cancel(edited));
  EXPECT_EQ(cancel.request_uri_text(), "sip:bob@192.0.2.9:5072");
  ASSERT_EQ(cancel.vias().size(), 1u);
  EXPECT_EQ(cancel.top_via().branch(), "z9hG4bK-j1-abc");
  EXPECT_EQ(cancel.value(header_id::route), "<sip:edge.example.com;lr>");
  EXPECT_EQ(cancel.cseq(), 7u);
  message busy = parsed(test::crlf(
      "SIP/2.0 486 Busy Here\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-j1-abc\n"
      "From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>;tag=b9\n"
      "Call-ID: call-1\nCSeq: 7 INVITE\nContent-Length: 0\n\n"));
  message ack = parsed(make_ack(edited, busy));
  EXPECT_EQ(ack.request_uri_text(), "sip:bob@192.0.2.9:5072");
  EXPECT_EQ(ack.top_via().branch(), "z9hG4bK-j1-abc");
  EXPECT_EQ(ack.to().tag(), "b9");
}

TEST(ProxyMessages, Rfc2543RequestsAreKeyedByWhatIdentifiesThem) {
  std::string old = sent_invite;
  old.replace(old.find("branch=z9hG4bK-j1-abc"), 21, "branch=old1");
  message a = parsed(old);
  EXPECT_TRUE(server_key(a).starts_with("2543|call-1|a1|7|"));
}

TEST(ProxyMessages, BestFinalResponse) {
  EXPECT_TRUE(better_final(486, 0));
  EXPECT_TRUE(better_final(302, 486));
  EXPECT_FALSE(better_final(404, 486));  // same class: the first one stays
  EXPECT_TRUE(better_final(603, 302));   // a 6xx beats everything
  EXPECT_FALSE(better_final(200, 603));
  EXPECT_FALSE(better_final(500, 408));
}

}  // namespace
}  // namespace junction::sip
