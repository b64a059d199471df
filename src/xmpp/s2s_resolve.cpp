#include "xmpp/s2s_resolve.hpp"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <array>
#include <memory>

namespace junction::xmpp {
namespace {

struct srv_record {
  unsigned priority = 0, weight = 0;
  s2s_target target;
};

// The SRV records of `name`; `none` is set when the one record is "." (no such service).
std::vector<srv_record> srv_lookup(const std::string& name, bool& none) {
  std::vector<srv_record> out;
  struct __res_state state {};
  if (res_ninit(&state) != 0) return out;
  std::array<unsigned char, 4096> answer{};
  const int length = res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer.data(), answer.size());
  if (length > 0) {
    ns_msg message;
    if (ns_initparse(answer.data(), length, &message) == 0) {
      for (int i = 0; i < ns_msg_count(message, ns_s_an); ++i) {
        ns_rr rr;
        if (ns_parserr(&message, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
        const unsigned char* data = ns_rr_rdata(rr);
        srv_record r;
        r.priority = ns_get16(data);
        r.weight = ns_get16(data + 2);
        r.target.port = static_cast<std::uint16_t>(ns_get16(data + 4));
        char host[NS_MAXDNAME];
        if (dn_expand(ns_msg_base(message), ns_msg_end(message), data + 6, host, sizeof host) < 0) continue;
        r.target.host = host;
        out.push_back(std::move(r));
      }
    }
  }
  res_nclose(&state);
  if (out.size() == 1 && (out[0].target.host.empty() || out[0].target.host == ".")) {
    none = true;
    out.clear();
  }
  // By priority; among equals, the heavier first (RFC 2782 picks at random by weight: a fixed
  // order keeps retries predictable).
  std::stable_sort(out.begin(), out.end(), [](const srv_record& a, const srv_record& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
  });
  return out;
}

}  // namespace

std::vector<s2s_target> s2s_targets(const std::string& domain, const std::vector<xmpp_s2s_route>& routes) {
  for (const auto& r : routes)
    if (r.domain == domain) return {s2s_target{r.host, r.port}};
  bool none = false;
  auto records = srv_lookup("_xmpp-server._tcp." + domain, none);
  if (none) return {};
  std::vector<s2s_target> out;
  for (auto& r : records) out.push_back(std::move(r.target));
  if (out.empty()) out.push_back(s2s_target{domain, 5269});
  return out;
}

std::vector<boost::asio::ip::tcp::endpoint> s2s_addresses(const std::vector<s2s_target>& targets) {
  std::vector<boost::asio::ip::tcp::endpoint> out;
  for (const auto& t : targets) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(t.port);
    if (getaddrinfo(t.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) continue;
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> hold(found, &freeaddrinfo);
    std::vector<boost::asio::ip::tcp::endpoint> v4, v6;
    for (auto* a = found; a; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
        v4.emplace_back(boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr)), t.port);
      } else if (a->ai_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
        boost::asio::ip::address_v6::bytes_type bytes;
        std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr), bytes.begin());
        v6.emplace_back(boost::asio::ip::address_v6(bytes, in6->sin6_scope_id), t.port);
      }
    }
    for (auto* list : {&v4, &v6})
      for (auto& e : *list)
        if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

}  // namespace junction::xmpp
