#pragma once
// Audio over RTP for the codecs a gateway carries: the RTP clock of each (G.722's is 8 kHz for
// 16 kHz audio, RFC 3551 §4.5.2; Opus's is always 48 kHz, RFC 7587 §4.1), and the one payload
// format that is more than the codec's bytes: AAC as mpeg4-generic in AAC-hbr mode (RFC 3640
// §3.3.6: a 16-bit AU-headers-length, then a 13-bit size and 3-bit index per access unit).
// G.711, G.722, Speex and Opus packets are carried as they are, one per RTP packet. Comfort
// noise (RFC 3389, payload type 13) is recognised so that it is not fed to a decoder.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/frame.hpp"
#include "media/rtp/packet.hpp"

namespace junction::media::rtp {

std::uint32_t rtp_clock_rate(media::codec c, int sample_rate) noexcept;
// RTP timestamp units for `samples` samples of audio at `sample_rate`.
std::uint32_t rtp_units(media::codec c, int sample_rate, int samples) noexcept;

inline constexpr std::uint8_t comfort_noise_payload_type = 13;
inline bool is_comfort_noise(const packet& p) noexcept { return p.header.payload_type == comfort_noise_payload_type; }

// One AAC access unit as an RFC 3640 AAC-hbr payload.
void write_aac_hbr(bytes access_unit, std::vector<std::uint8_t>& out);
// The access units of an AAC-hbr payload; nothing when its headers do not add up.
std::optional<std::vector<bytes>> read_aac_hbr(bytes payload);
// The fmtp for a=fmtp of mpeg4-generic/AAC-hbr, with the AudioSpecificConfig as config=.
std::string aac_hbr_fmtp(bytes audio_specific_config);

}  // namespace junction::media::rtp
