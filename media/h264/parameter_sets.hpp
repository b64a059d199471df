#pragma once
// H.264 decoder configuration as the two worlds carry it: FLV/RTMP's AVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 §5.2.4.1, the "sequence header"), and SDP's sprop-parameter-sets (RFC 6184
// §8.1, base64 NAL units). Plus the AVCC framing of FLV video (length-prefixed NAL units). Pure.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace junction::media::h264 {

using bytes = std::span<const std::uint8_t>;
using nal_unit = std::vector<std::uint8_t>;

inline std::uint8_t nal_type(bytes nal) noexcept { return nal.empty() ? 0 : nal[0] & 0x1F; }
inline constexpr std::uint8_t nal_idr = 5, nal_sei = 6, nal_sps = 7, nal_pps = 8, nal_aud = 9;

struct parameter_sets {
  std::vector<nal_unit> sps, pps;
  std::uint8_t length_size = 4;  // bytes of each NAL length in AVCC frames
  bool empty() const noexcept { return sps.empty() || pps.empty(); }
  friend bool operator==(const parameter_sets&, const parameter_sets&) = default;
};

// Reads an AVCDecoderConfigurationRecord; nothing when it is malformed.
std::optional<parameter_sets> parse_avc_config(bytes record);
// Writes one, taking profile, compatibility and level from the first SPS.
std::vector<std::uint8_t> make_avc_config(const parameter_sets& sets);

// "Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==" <-> SPS and PPS (base64, comma-separated).
std::optional<parameter_sets> parse_sprop(std::string_view value);
std::string make_sprop(const parameter_sets& sets);

// The NAL units of an AVCC frame (each preceded by a `length_size`-byte big-endian length);
// nothing when a length runs past the end.
std::optional<std::vector<bytes>> split_avcc(bytes frame, std::uint8_t length_size);

// "42e01f": profile_idc, constraint flags and level_idc of an SPS, as SDP's profile-level-id.
std::string profile_level_id(const nal_unit& sps);

}  // namespace junction::media::h264
