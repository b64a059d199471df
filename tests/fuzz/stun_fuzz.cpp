// The STUN reader, the ICE-lite agent and the RFC 7983 classifier on arbitrary datagrams. Checks,
// beyond "no crash": a datagram the reader takes is classified as STUN; every reply the agent
// writes is itself a STUN message the reader takes, of the request's transaction, with a good
// FINGERPRINT, and a success is signed with the agent's password.
#include <cstdint>
#include <cstdlib>

#include "webrtc/demux.hpp"
#include "webrtc/ice_lite.hpp"

using namespace junction::webrtc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> datagram(data, size);
  std::error_code ec;
  auto m = stun::message_view::parse(datagram, ec);
  if (ec) return 0;
  if (classify(datagram) != packet_kind::stun) std::abort();
  (void)m.username();
  (void)m.priority();
  (void)m.u64(stun::attr::ice_controlling);
  (void)m.xor_mapped_address();
  (void)m.error();
  (void)m.unknown_required();
  (void)m.fingerprint_ok();
  (void)m.integrity_ok("password");

  static const auto start = ice_lite_agent::clock::now();
  ice_lite_agent agent({"ufrag", "password"}, "", start);
  const ice_lite_agent::endpoint from(boost::asio::ip::make_address("192.0.2.1"), 5000);
  auto r = agent.on_stun(m, from, start);
  if (r.reply.empty()) return 0;
  auto reply = stun::message_view::parse(r.reply, ec);
  if (ec || reply.id() != m.id() || !reply.fingerprint_ok()) std::abort();
  if (r.what == ice_lite_agent::outcome::answered &&
      (!reply.integrity_ok("password") || reply.xor_mapped_address() != from))
    std::abort();
  return 0;
}
