#include "transcode/audio_format.hpp"

#include "core/ascii.hpp"
#include "media/sdp/session.hpp"

namespace junction::transcode {

std::optional<flv_audio> read_flv_audio(std::span<const std::uint8_t> body) {
  if (body.empty()) return std::nullopt;
  const std::uint8_t b = body[0];
  const int format = b >> 4, rate_code = (b >> 2) & 3, channels = (b & 1) ? 2 : 1;
  static constexpr int rates[] = {5512, 11025, 22050, 44100};
  flv_audio a;
  a.format.channels = channels;
  a.format.sample_rate = rates[rate_code];
  std::size_t header = 1;
  switch (format) {
    case 2: a.format.codec = media::codec::mp3; break;
    case 4: a.format.codec = media::codec::nellymoser; a.format.sample_rate = 16000; a.format.channels = 1; break;
    case 5: a.format.codec = media::codec::nellymoser; a.format.sample_rate = 8000; a.format.channels = 1; break;
    case 6: a.format.codec = media::codec::nellymoser; break;
    case 7: a.format.codec = media::codec::g711a; a.format.sample_rate = 8000; break;
    case 8: a.format.codec = media::codec::g711u; a.format.sample_rate = 8000; break;
    case 10:
      if (body.size() < 2) return std::nullopt;
      a.format.codec = media::codec::aac;
      a.aac_config = body[1] == 0;
      header = 2;
      break;
    // The spec fixes Speex at 16 kHz mono whatever the flags say.
    case 11: a.format.codec = media::codec::speex; a.format.sample_rate = 16000; a.format.channels = 1; break;
    default: return std::nullopt;  // PCM, ADPCM and device-specific sound: not transcoded
  }
  a.data = body.subspan(header);
  return a;
}

std::optional<std::vector<std::uint8_t>> flv_audio_header(const audio_format& f, bool aac_config) {
  auto rate_code = [](int rate) {
    if (rate <= 5512) return 0;
    if (rate <= 11025) return 1;
    if (rate <= 22050) return 2;
    return 3;
  };
  const std::uint8_t stereo = f.channels > 1 ? 1 : 0;
  auto byte = [&](int format, int rate, bool sixteen_bit) {
    return static_cast<std::uint8_t>(format << 4 | rate << 2 | (sixteen_bit ? 2 : 0) | stereo);
  };
  switch (f.codec) {
    case media::codec::mp3: return std::vector<std::uint8_t>{byte(2, rate_code(f.sample_rate), true)};
    case media::codec::nellymoser:
      if (f.channels != 1) return std::nullopt;
      if (f.sample_rate == 16000) return std::vector<std::uint8_t>{byte(4, 0, true)};
      if (f.sample_rate == 8000) return std::vector<std::uint8_t>{byte(5, 0, true)};
      return std::vector<std::uint8_t>{byte(6, rate_code(f.sample_rate), true)};
    case media::codec::g711a: return std::vector<std::uint8_t>{byte(7, 0, true)};
    case media::codec::g711u: return std::vector<std::uint8_t>{byte(8, 0, true)};
    // The spec fixes AAC's flags at 44 kHz stereo 16-bit (0xAF): the AudioSpecificConfig says what it is.
    case media::codec::aac: return std::vector<std::uint8_t>{0xAF, static_cast<std::uint8_t>(aac_config ? 0 : 1)};
    case media::codec::speex:
      if (f.sample_rate != 16000 || f.channels != 1) return std::nullopt;
      return std::vector<std::uint8_t>{byte(11, 0, true)};
    default: return std::nullopt;
  }
}

std::string_view describe(const audio_format& f) { return media::codec_name(f.codec); }

std::optional<audio_format> audio_format_of(const media::sdp::codec& c) {
  using media::codec;
  if (iequals(c.encoding, "PCMU")) return audio_format{codec::g711u, 8000, 1};
  if (iequals(c.encoding, "PCMA")) return audio_format{codec::g711a, 8000, 1};
  // G.722's RTP clock says 8000 but the audio is 16 kHz (RFC 3551 §4.5.2).
  if (iequals(c.encoding, "G722")) return audio_format{codec::g722, 16000, 1};
  if (iequals(c.encoding, "speex")) return audio_format{codec::speex, static_cast<int>(c.clock_rate), 1};
  // Opus is always described as 48000/2 (RFC 7587); mono is what Junction's SIP audio is.
  if (iequals(c.encoding, "opus")) return audio_format{codec::opus, 48000, 1};
  return std::nullopt;
}

}  // namespace junction::transcode
