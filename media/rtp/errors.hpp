#pragma once
// Why an RTP packet or an RTCP compound is refused: error codes of the categories "rtp" and
// "rtcp" (message() says it in words). The data plane counts and drops such datagrams.
#include <system_error>
#include <type_traits>

namespace junction::media::rtp {

enum class packet_errc {
  too_short = 1,   // shorter than the 12-byte header
  bad_version,     // not RTP version 2
  bad_csrc_count,  // the CSRC list runs past the end
  bad_extension,   // the header extension runs past the end
  bad_padding,     // the padding count is zero or runs past the payload
};
const std::error_category& packet_category() noexcept;
std::error_code make_error_code(packet_errc e) noexcept;

enum class rtcp_errc {
  too_short = 1,          // shorter than an RTCP header
  too_many_packets,       // more packets in one compound than the parser reads
  trailing_bytes,         // bytes after the last packet that are not one
  bad_version,            // not RTCP version 2
  bad_length,             // a packet's length runs past the datagram
  bad_padding,
  short_sender_report,    // shorter than its report blocks
  short_receiver_report,  // the same
  bad_sdes,               // a chunk or an item runs past the packet
  bad_bye,                // shorter than its sources, or its reason runs past the packet
  short_feedback,         // an RTPFB/PSFB shorter than its header
};
const std::error_category& rtcp_category() noexcept;
std::error_code make_error_code(rtcp_errc e) noexcept;

}  // namespace junction::media::rtp

template <>
struct std::is_error_code_enum<junction::media::rtp::packet_errc> : std::true_type {};
template <>
struct std::is_error_code_enum<junction::media::rtp::rtcp_errc> : std::true_type {};
