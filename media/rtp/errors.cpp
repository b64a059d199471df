#include "media/rtp/errors.hpp"

#include "media/enum_category.hpp"

namespace junction::media::rtp {
namespace {

std::string_view describe(packet_errc e) noexcept {
  switch (e) {
    case packet_errc::too_short: return "shorter than its header";
    case packet_errc::bad_version: return "not RTP version 2";
    case packet_errc::bad_csrc_count: return "CSRC list runs past the end";
    case packet_errc::bad_extension: return "header extension runs past the end";
    case packet_errc::bad_padding: return "padding count is zero or runs past the payload";
  }
  return "malformed RTP packet";
}

std::string_view describe(rtcp_errc e) noexcept {
  switch (e) {
    case rtcp_errc::too_short: return "shorter than an RTCP header";
    case rtcp_errc::too_many_packets: return "too many packets in one compound";
    case rtcp_errc::trailing_bytes: return "trailing bytes after the last packet";
    case rtcp_errc::bad_version: return "not RTCP version 2";
    case rtcp_errc::bad_length: return "a packet's length runs past the datagram";
    case rtcp_errc::bad_padding: return "bad padding";
    case rtcp_errc::short_sender_report: return "sender report shorter than its blocks";
    case rtcp_errc::short_receiver_report: return "receiver report shorter than its blocks";
    case rtcp_errc::bad_sdes: return "SDES chunk or item runs past the packet";
    case rtcp_errc::bad_bye: return "BYE shorter than its sources or its reason";
    case rtcp_errc::short_feedback: return "feedback shorter than its header";
  }
  return "malformed RTCP compound";
}

}  // namespace

const std::error_category& packet_category() noexcept {
  static const enum_category<packet_errc> category{"rtp", describe};
  return category;
}
std::error_code make_error_code(packet_errc e) noexcept { return {static_cast<int>(e), packet_category()}; }

const std::error_category& rtcp_category() noexcept {
  static const enum_category<rtcp_errc> category{"rtcp", describe};
  return category;
}
std::error_code make_error_code(rtcp_errc e) noexcept { return {static_cast<int>(e), rtcp_category()}; }

}  // namespace junction::media::rtp
