#pragma once
// The WebRTC ports of the server: one webrtc_port per shard ([webrtc] address, port + shard),
// the DTLS certificate they all use, the addresses candidates name, and the port metrics. The
// ports open with the listeners and end when the runtime drains (each on its own shard, while it
// still runs, so their loops end before the io_contexts go): every peer is told the server is
// stopping.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "webrtc/config.hpp"
#include "webrtc/offer_answer.hpp"
#include "webrtc/port.hpp"

namespace junction {
class runtime;
}

namespace junction::webrtc {

class shard_ports {
 public:
  // Makes the certificate; throws std::runtime_error when OpenSSL cannot.
  shard_ports(runtime& rt, const webrtc_config& cfg);
  ~shard_ports();
  shard_ports(const shard_ports&) = delete;
  shard_ports& operator=(const shard_ports&) = delete;

  // Binds each shard's port and records it as a listener ("webrtc udp <address>:<port>").
  // Throws std::runtime_error naming the address when one cannot be bound.
  void listen();

  // Shard i's port (nullptr before listen(), or once the runtime drains).
  webrtc_port* at(unsigned shard) const noexcept;
  // Where a peer on shard i is told to send: a UDP host candidate per announced address.
  std::vector<local_candidate> candidates(unsigned shard) const;
  const std::shared_ptr<const dtls_certificate>& certificate() const noexcept { return certificate_; }
  const webrtc_config& config() const noexcept { return cfg_; }

 private:
  runtime& rt_;
  webrtc_config cfg_;
  std::shared_ptr<const dtls_certificate> certificate_;
  port_counters counters_;
  std::vector<std::shared_ptr<webrtc_port>> ports_;
  std::vector<std::string> announced_;  // candidate addresses, in order of preference
};

// The addresses a wildcard bind ("0.0.0.0", "::") is reached on: the host's up interfaces of that
// family, global ones first and loopback last.
std::vector<std::string> interface_addresses(bool ipv6);

}  // namespace junction::webrtc
