#pragma once
// Where another domain's XMPP server listens (RFC 6120 §3.2.1): a configured route, else the DNS
// SRV records _xmpp-server._tcp.<domain> in order of priority, else the domain itself on 5269.
// Blocking (DNS): run on a worker, never on a shard.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "xmpp/config.hpp"

namespace junction::xmpp {

struct s2s_target {
  std::string host;
  std::uint16_t port = 5269;
};

// The hosts to try for `domain`, in order; empty when its SRV record says it has no XMPP service.
std::vector<s2s_target> s2s_targets(const std::string& domain, const std::vector<xmpp_s2s_route>& routes);

// Every address of every target, in order (host names looked up, IPv4 before IPv6 per host).
std::vector<boost::asio::ip::tcp::endpoint> s2s_addresses(const std::vector<s2s_target>& targets);

}  // namespace junction::xmpp
