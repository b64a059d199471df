#pragma once
// RTCP (RFC 3550 §6) compound packets: sender and receiver reports, SDES CNAME, BYE, and the
// feedback messages a media gateway acts on (RFC 4585 generic NACK, picture loss indication; RFC
// 5104 full intra request; REMB and transport-wide congestion feedback). Parsed with the validity checks of RFC 3550 A.2 (relaxed for RFC
// 5506 reduced-size packets) and written for the reports Junction sends. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "media/rtp/congestion_feedback.hpp"
#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

struct report_block {
  std::uint32_t ssrc = 0;               // the source this block is about
  std::uint8_t fraction_lost = 0;       // since the last report, in 1/256
  std::int32_t cumulative_lost = 0;     // 24-bit signed on the wire
  std::uint32_t highest_sequence = 0;   // extended highest sequence number received
  std::uint32_t jitter = 0;             // interarrival jitter, in timestamp units
  std::uint32_t last_sr = 0;            // middle 32 bits of the last SR's NTP time
  std::uint32_t delay_since_last_sr = 0;  // in 1/65536 s
  friend bool operator==(const report_block&, const report_block&) = default;
};

struct sender_report {
  std::uint32_t ssrc = 0;
  std::uint64_t ntp_time = 0;  // 32.32 fixed point seconds since 1900
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
  std::vector<report_block> reports;
  friend bool operator==(const sender_report&, const sender_report&) = default;
};

struct receiver_report {
  std::uint32_t ssrc = 0;
  std::vector<report_block> reports;
  friend bool operator==(const receiver_report&, const receiver_report&) = default;
};

struct source_description {
  std::uint32_t ssrc = 0;
  std::string cname;  // the one SDES item every source sends; the others are skipped
  friend bool operator==(const source_description&, const source_description&) = default;
};

struct goodbye {
  std::vector<std::uint32_t> ssrcs;
  std::string reason;
  friend bool operator==(const goodbye&, const goodbye&) = default;
};

// Transport (205) and payload-specific (206) feedback, RFC 4585 §6.1, with REMB and
// transport-wide congestion feedback read (congestion_feedback.hpp).
struct feedback {
  enum class kind { nack, pli, fir, remb, transport_cc, other };
  kind what = kind::other;
  std::uint8_t packet_type = 206;
  std::uint8_t format = 0;
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
  std::vector<std::uint16_t> lost;  // NACK: the sequence numbers it asks for again
  std::optional<remb> estimate;                 // REMB
  std::optional<transport_feedback> transport;  // transport-cc
  friend bool operator==(const feedback&, const feedback&) = default;
};

using rtcp_packet = std::variant<sender_report, receiver_report, source_description, goodbye, feedback>;

struct rtcp_result {
  std::vector<rtcp_packet> packets;  // every packet of the compound, unknown types skipped
  std::error_code error;             // why the compound is refused (category "rtcp"), or none
  bool ok() const noexcept { return !error; }
};

// At most `max_packets` packets are read from one compound (a bound on work per datagram).
rtcp_result parse_rtcp(bytes datagram, std::size_t max_packets = 32);

// Writers append one packet each to `out`; a compound is several calls in a row (RFC 3550 §6.1:
// a report first, then SDES with a CNAME).
void write_sender_report(const sender_report& sr, std::vector<std::uint8_t>& out);
void write_receiver_report(const receiver_report& rr, std::vector<std::uint8_t>& out);
void write_sdes(const source_description& sdes, std::vector<std::uint8_t>& out);
void write_bye(const goodbye& bye, std::vector<std::uint8_t>& out);
void write_pli(std::uint32_t sender_ssrc, std::uint32_t media_ssrc, std::vector<std::uint8_t>& out);
void write_fir(std::uint32_t sender_ssrc, std::uint32_t media_ssrc, std::uint8_t sequence,
               std::vector<std::uint8_t>& out);
void write_nack(std::uint32_t sender_ssrc, std::uint32_t media_ssrc, const std::vector<std::uint16_t>& lost,
                std::vector<std::uint8_t>& out);

}  // namespace junction::media::rtp
