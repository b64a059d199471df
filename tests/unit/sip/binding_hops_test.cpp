// Where a registered binding is reached: the transport and peer named by the REGISTER's source.
#include "sip/binding_hops.hpp"

#include <gtest/gtest.h>

namespace junction::sip {
namespace {

binding registered(std::string source, std::uint64_t flow, std::string contact = "sip:u@192.0.2.9:5070") {
  binding b;
  b.contact = std::move(contact);
  b.source = std::move(source);
  b.flow = flow;
  return b;
}

TEST(BindingHops, EachStreamTransportIsReadAsItsWholeWord) {
  // "wss" begins with "ws": a secure WebSocket binding was once reached as a plain one.
  const std::pair<const char*, transport> cases[] = {
      {"tcp 192.0.2.1:40000", transport::tcp}, {"tls 192.0.2.1:40000", transport::tls},
      {"ws 192.0.2.1:40000", transport::ws}, {"wss 192.0.2.1:40000", transport::wss}};
  for (const auto& [source, kind] : cases) {
    auto hop = next_hop_of(registered(source, 7), 0);
    ASSERT_TRUE(hop) << source;
    EXPECT_EQ(hop->kind, kind) << source;
    EXPECT_EQ(hop->flow, 7u) << source;
    EXPECT_EQ(hop->peer.port(), 40000) << source;
  }
}

TEST(BindingHops, TransportTokensInAnyCase) {
  EXPECT_EQ(transport_from_token("wss"), transport::wss);
  EXPECT_EQ(transport_from_token("WSS"), transport::wss);  // transport=WSS in a Route
  EXPECT_EQ(transport_from_token("Tls"), transport::tls);
  EXPECT_EQ(transport_from_token("ws"), transport::ws);
  EXPECT_EQ(transport_from_token("sctp"), std::nullopt);
  EXPECT_EQ(transport_from_token("w"), std::nullopt);
  EXPECT_EQ(transport_from_token(""), std::nullopt);
}

TEST(BindingHops, UdpGoesToTheContactOnTheSameHostElseToTheSource) {
  auto same_host = next_hop_of(registered("udp 192.0.2.9:5080", 0), 0);
  ASSERT_TRUE(same_host);
  EXPECT_EQ(same_host->kind, transport::udp);
  EXPECT_EQ(same_host->peer.port(), 5070);  // the Contact's port: no NAT in between
  auto natted = next_hop_of(registered("udp 198.51.100.4:61000", 0), 0);
  ASSERT_TRUE(natted);
  EXPECT_EQ(natted->peer.address().to_string(), "198.51.100.4");
  EXPECT_EQ(natted->peer.port(), 61000);
  EXPECT_FALSE(next_hop_of(registered("nonsense", 0), 0));
}

}  // namespace
}  // namespace junction::sip
