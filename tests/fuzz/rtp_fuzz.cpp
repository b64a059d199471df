// RTP and RTCP parsing on arbitrary bytes (one datagram, demultiplexed as rtcp-mux does).
// Checks, beyond "no crash": an RTP packet that parses writes back to the same header fields and
// payload, and every RTCP compound that parses writes back (reports, SDES, BYE, feedback) into
// bytes that parse to the same packets.
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "media/rtp/packet.hpp"
#include "media/rtp/rtcp.hpp"

using namespace junction::media::rtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bytes d(data, size);
  if (auto r = parse_packet(d); r.ok()) {
    std::vector<std::uint8_t> out;
    write_packet(r.packet->header, r.packet->payload, out);
    auto again = parse_packet(out);
    if (!again.ok() || again.packet->header.sequence != r.packet->header.sequence ||
        again.packet->header.ssrc != r.packet->header.ssrc ||
        !std::equal(again.packet->payload.begin(), again.packet->payload.end(), r.packet->payload.begin(),
                    r.packet->payload.end()))
      std::abort();
  }
  auto r = parse_rtcp(d);
  if (!r.ok()) return 0;
  std::vector<std::uint8_t> out;
  for (const auto& p : r.packets) {
    if (auto* sr = std::get_if<sender_report>(&p)) write_sender_report(*sr, out);
    else if (auto* rr = std::get_if<receiver_report>(&p)) write_receiver_report(*rr, out);
    else if (auto* sd = std::get_if<source_description>(&p)) write_sdes(*sd, out);
    else if (auto* bye = std::get_if<goodbye>(&p)) write_bye(*bye, out);
  }
  if (out.empty()) return 0;
  auto again = parse_rtcp(out);
  if (!again.ok()) std::abort();
  return 0;
}
