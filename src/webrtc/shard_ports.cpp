#include "webrtc/shard_ports.hpp"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>

#include "core/log.hpp"
#include "core/runtime.hpp"

namespace junction::webrtc {
namespace {

port_counters declare(metric_registry& r) {
  using k = metric_kind;
  port_counters c;
  c.peers = r.add("junction_webrtc_peers", "WebRTC peers on the shards' ports (checking, connecting or connected).",
                  k::gauge);
  c.connected = r.add("junction_webrtc_connected_total", "WebRTC transports that connected (ICE, DTLS and SRTP).",
                      k::counter);
  c.failed = r.add("junction_webrtc_failed_total",
                   "WebRTC transports that failed: DTLS failure or timeout, a certificate that is not the "
                   "offer's fingerprint, consent lapsed.",
                   k::counter);
  c.strangers = r.add("junction_webrtc_stranger_datagrams_total",
                      "Datagrams on a WebRTC port that no peer claimed (unknown ufrag, unproven source).", k::counter);
  c.received = r.add("junction_webrtc_packets_received_total", "RTP and RTCP packets WebRTC peers sent, decrypted.",
                     k::counter);
  c.send_drops = r.add("junction_webrtc_send_drops_total",
                       "Datagrams a WebRTC port dropped because its send backlog (32 MiB) was full.", k::counter);
  return c;
}

}  // namespace

std::vector<std::string> interface_addresses(bool ipv6) {
  std::vector<std::string> global, loopback;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {ipv6 ? "::1" : "127.0.0.1"};
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != (ipv6 ? AF_INET6 : AF_INET)) continue;
    boost::asio::ip::address a;
    if (family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      a = boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
    } else {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      boost::asio::ip::address_v6::bytes_type b;
      std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr), b.begin());
      auto v6 = boost::asio::ip::address_v6(b);
      if (v6.is_link_local()) continue;  // needs a scope a candidate cannot carry
      a = v6;
    }
    auto& into = a.is_loopback() ? loopback : global;
    const auto text = a.to_string();
    if (std::find(into.begin(), into.end(), text) == into.end()) into.push_back(text);
  }
  freeifaddrs(list);
  global.insert(global.end(), loopback.begin(), loopback.end());
  return global;
}

shard_ports::shard_ports(runtime& rt, const webrtc_config& cfg)
    : rt_(rt), cfg_(cfg), counters_(declare(rt.registry())) {
  std::string why;
  certificate_ = dtls_certificate::generate(why);
  if (!certificate_) throw std::runtime_error("webrtc: cannot make a DTLS certificate: " + why);
  const auto bind = boost::asio::ip::make_address(cfg_.address);
  if (!cfg_.announce.empty())
    announced_ = {cfg_.announce};
  else if (bind.is_unspecified())
    announced_ = interface_addresses(bind.is_v6());
  else
    announced_ = {cfg_.address};
}

shard_ports::~shard_ports() {
  // The runtime drained (the ports stopped there) or never ran (their loops never started).
  for (auto& p : ports_)
    if (p) p->stop();
}

void shard_ports::listen() {
  const auto bind = boost::asio::ip::make_address(cfg_.address);
  ports_.resize(rt_.size());
  for (unsigned i = 0; i < rt_.size(); ++i) {
    const std::uint16_t port = cfg_.port ? static_cast<std::uint16_t>(cfg_.port + i) : 0;
    if (cfg_.port && cfg_.port + i > 65535) throw std::runtime_error("webrtc.port + shards is beyond 65535");
    if (port) rt_.claim_listen_address("udp", bind.to_string(), port);
    if (port && cfg_.ice_tcp) rt_.claim_listen_address("tcp", bind.to_string(), port);
    boost::system::error_code ec;
    auto p = webrtc_port::open(rt_.at(i), {bind, port}, certificate_, counters_, ec);
    if (!p) {
      const auto where = boost::asio::ip::udp::endpoint{bind, port};
      throw std::runtime_error("webrtc: cannot bind " + (where.address().is_v6() ? "[" + cfg_.address + "]" : cfg_.address) +
                               ":" + std::to_string(port) + ": " + ec.message());
    }
    p->set_max_peers(cfg_.max_peers);
    const auto bound = p->local_port();
    const std::string where = (bind.is_v6() ? "[" + cfg_.address + "]" : cfg_.address) + ":" + std::to_string(bound);
    rt_.add_listener({"webrtc", "udp", where});
    if (cfg_.ice_tcp) {
      // The configured number for TCP too; with none, a port of the kernel's own choosing (the
      // UDP port's number may be a TCP connection's already).
      if (!p->listen_tcp(port, ec))
        throw std::runtime_error("webrtc: cannot listen on TCP " + cfg_.address + ":" + std::to_string(port) + ": " +
                                 ec.message());
      rt_.add_listener({"webrtc", "tcp",
                        (bind.is_v6() ? "[" + cfg_.address + "]" : cfg_.address) + ":" + std::to_string(p->tcp_port())});
    }
    ports_[i] = p;
    auto& home = rt_.at(i);
    // Started once the shard runs; stopped when it drains. Plain pointers: the ports live in
    // ports_ until this object goes, after the runtime has stopped.
    rt_.post(i, [raw = p.get()] { raw->start(); });
    home.on_drain([this, i] {
      if (auto& q = ports_[i]) q->stop();
    });
  }
}

webrtc_port* shard_ports::at(unsigned shard) const noexcept {
  return shard < ports_.size() ? ports_[shard].get() : nullptr;
}

std::vector<local_candidate> shard_ports::candidates(unsigned shard) const {
  std::vector<local_candidate> out;
  auto* p = at(shard);
  if (!p) return out;
  for (const auto& a : announced_) out.push_back({a, p->local_port(), false});
  if (p->has_tcp())  // ICE-TCP after UDP: a browser takes TCP only when UDP does not get through
    for (const auto& a : announced_) out.push_back({a, p->tcp_port(), true});
  return out;
}

}  // namespace junction::webrtc
