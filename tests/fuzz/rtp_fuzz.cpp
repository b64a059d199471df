// RTP and RTCP parsing on arbitrary bytes (one datagram, demultiplexed as rtcp-mux does).
// Checks, beyond "no crash": an RTP packet that parses writes back to the same header fields and
// payload, and every RTCP compound that parses writes back (reports, SDES, BYE, feedback) into
// bytes that parse to the same packets; REMB and transport-wide feedback each write back into a
// packet that reads the same (a REMB's rate never higher: its mantissa is 18 bits); header
// extension elements lie inside the extension; the NACK tracker and the transport-wide feedback
// a receiver builds from the bytes as sequence numbers stay bounded and write back readably.
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "media/rtp/audio_payload.hpp"
#include "media/rtp/dtmf.hpp"
#include "media/rtp/header_extension.hpp"
#include "media/rtp/nack_tracker.hpp"
#include "media/rtp/transport_cc_receiver.hpp"
#include "media/rtp/jitter_buffer.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/receive_statistics.hpp"
#include "media/rtp/rtcp.hpp"

using namespace junction::media::rtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bytes d(data, size);
  auto packet = parse_packet(d);
  if (packet.ok() == static_cast<bool>(packet.error)) std::abort();  // a refusal always says why
  if (auto& r = packet; r.ok()) {
    std::vector<std::uint8_t> out;
    write_packet(r.packet->header, r.packet->payload, out);
    auto again = parse_packet(out);
    if (!again.ok() || again.packet->header.sequence != r.packet->header.sequence ||
        again.packet->header.ssrc != r.packet->header.ssrc ||
        !std::equal(again.packet->payload.begin(), again.packet->payload.end(), r.packet->payload.begin(),
                    r.packet->payload.end()))
      std::abort();
  }
  // Header extension elements (RFC 8285) of a packet that parses lie inside its extension.
  if (packet.ok()) {
    const auto& h = packet.packet->header;
    for (std::uint8_t id = 0; id < 16; ++id)
      if (auto e = find_extension(h, id))
        if (e->data() < h.extension.data() || e->data() + e->size() > h.extension.data() + h.extension.size())
          std::abort();
  }
  // Sequence numbers from the bytes through the NACK tracker and transport-wide feedback: what
  // they tell is bounded, and the feedback writes and reads back.
  {
    nack_tracker losses;
    transport_cc_receiver arrivals;
    auto now = nack_tracker::clock::now();
    for (std::size_t i = 0; i + 1 < size && i < 512; i += 2) {
      const auto sequence = static_cast<std::uint16_t>(data[i] << 8 | data[i + 1]);
      losses.on_packet(sequence, now);
      arrivals.on_packet(sequence, static_cast<std::int64_t>(i) * 997);
      if (losses.due(now).size() > 512) std::abort();
      now += std::chrono::milliseconds(data[i] & 0x7F);
    }
    if (auto f = arrivals.take(1, 2)) {
      std::vector<std::uint8_t> wire;
      write_transport_feedback(*f, wire);
      auto read = parse_rtcp(wire);
      if (!read.ok() || read.packets.size() != 1) std::abort();
    }
  }
  // Payload formats on the same bytes: AAC-hbr access units must lie inside the payload.
  if (auto aus = read_aac_hbr(d))
    for (auto au : *aus)
      if (au.data() < d.data() || au.data() + au.size() > d.data() + d.size()) std::abort();
  (void)parse_telephone_event(d);
  // Sequence numbers from the bytes through statistics and a jitter buffer: bounded, no crash.
  receive_statistics stats(8000);
  jitter_buffer buffer({std::chrono::microseconds(1000), 16});
  std::vector<jitter_buffer::entry> ready;
  for (std::size_t i = 0; i + 1 < size && i < 512; i += 2) {
    const auto seq = static_cast<std::uint16_t>(data[i] << 8 | data[i + 1]);
    stats.on_packet(seq, static_cast<std::uint32_t>(i * 80), static_cast<std::int64_t>(i) * 10'000);
    buffer.push({}, seq, static_cast<std::int64_t>(i) * 400);
    buffer.pop_ready(static_cast<std::int64_t>(i) * 400, ready);
    if (buffer.size() > 17) std::abort();
  }
  (void)stats.report(1);
  auto r = parse_rtcp(d);
  if (!r.ok()) {
    if (r.error.category() != rtcp_category()) std::abort();
    return 0;
  }
  std::vector<std::uint8_t> out;
  for (const auto& p : r.packets) {
    if (auto* sr = std::get_if<sender_report>(&p)) write_sender_report(*sr, out);
    else if (auto* rr = std::get_if<receiver_report>(&p)) write_receiver_report(*rr, out);
    else if (auto* sd = std::get_if<source_description>(&p)) write_sdes(*sd, out);
    else if (auto* bye = std::get_if<goodbye>(&p)) write_bye(*bye, out);
    else if (auto* fb = std::get_if<feedback>(&p)) {
      // REMB and transport-wide feedback read back as they were read.
      std::vector<std::uint8_t> one;
      if (fb->estimate) write_remb(*fb->estimate, one);
      if (fb->transport) write_transport_feedback(*fb->transport, one);
      if (one.empty()) continue;
      auto back = parse_rtcp(one);
      if (!back.ok() || back.packets.size() != 1) std::abort();
      const auto& again = std::get<feedback>(back.packets[0]);
      if (fb->estimate && (!again.estimate || again.estimate->ssrcs != fb->estimate->ssrcs ||
                           again.estimate->bitrate > fb->estimate->bitrate))
        std::abort();
      if (fb->transport && again.transport != fb->transport) std::abort();
    }
  }
  if (out.empty()) return 0;
  auto again = parse_rtcp(out);
  if (!again.ok()) std::abort();
  return 0;
}
