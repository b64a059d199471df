// A WebRTC port's demultiplexing and DTLS on arbitrary datagrams, and ICE-TCP's framing on the
// same bytes as a stream. Input: records of
// [length hi][length lo][datagram]. Each datagram is classified (RFC 7983); the DTLS ones go to
// one server-side association, the STUN ones to the STUN reader. Checks, beyond "no crash": the
// association never reports a connection (no datagram sequence without the client's key can
// finish a handshake whose peer fingerprint is a fixed one), and every datagram it writes is
// DTLS by the same rule and fits the MTU.
#include <cstdint>
#include <cstdlib>

#include "webrtc/demux.hpp"
#include "webrtc/dtls.hpp"
#include "webrtc/stun.hpp"
#include "webrtc/tcp_framing.hpp"

using namespace junction::webrtc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto certificate = dtls_certificate::generate();
  static const auto expected = parse_fingerprint(
      "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  if (!certificate || !expected) std::abort();
  dtls_transport server(certificate, dtls_transport::role::server, *expected);
  const auto now = dtls_transport::clock::now();
  std::size_t at = 0;
  while (at + 2 <= size) {
    const std::size_t n = std::min<std::size_t>(std::size_t{data[at]} << 8 | data[at + 1], size - at - 2);
    const std::span<const std::uint8_t> datagram(data + at + 2, n);
    at += 2 + n;
    switch (classify(datagram)) {
      case packet_kind::dtls: server.on_datagram(datagram, now); break;
      case packet_kind::stun: {
        std::error_code ec;
        (void)stun::message_view::parse(datagram, ec);
        break;
      }
      default: break;
    }
    for (const auto& d : server.take_outgoing())
      if (classify(d) != packet_kind::dtls || d.size() > dtls_transport::mtu) std::abort();
    if (server.current() == dtls_transport::state::connected) std::abort();
  }
  server.on_timer(now + std::chrono::seconds(1));

  // The same bytes as an ICE-TCP stream, cut in two: every packet it yields is framed again into
  // exactly the bytes it came from, and what is left over is less than a packet.
  tcp_deframer stream;
  std::vector<std::uint8_t> again;
  const std::size_t cut = size / 2;
  auto keep = [&](std::span<const std::uint8_t> p) {
    if (p.empty() || !frame_for_tcp(p, again)) std::abort();
  };
  stream.feed({data, cut}, keep);
  stream.feed({data + cut, size - cut}, keep);
  if (stream.buffered() > tcp_deframer::max_packet + 2 || again.size() + stream.buffered() > size) std::abort();
  return 0;
}
