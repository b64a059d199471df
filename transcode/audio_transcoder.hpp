#pragma once
// Audio transcoding between the codecs of Flash clients and of SIP phones, on libavcodec and
// libswresample: decode, resample and remix, regroup the samples into the frames the encoder
// wants (a Speex 20 ms frame at 16 kHz in, a 20 ms µ-law frame at 8 kHz out), encode. Codec
// packets in, codec packets out: the FLV and RTP framings are the caller's. One object is one
// direction of one call, used by one thread at a time.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "transcode/audio_format.hpp"

namespace junction::transcode {

struct audio_packet {
  std::vector<std::uint8_t> data;
  std::int64_t pts = 0;   // in samples at the output rate, from the first output sample
  int samples = 0;        // how many samples it covers
};

struct transcoder_counters {
  std::uint64_t packets_in = 0, packets_out = 0, decode_errors = 0;
};

class audio_transcoder {
 public:
  // `frame_ms` is the output packet length for codecs that allow any (G.711, G.722: the
  // negotiated ptime); codecs with fixed frames (Speex, Nellymoser, AAC, MP3, Opus) use theirs.
  // Nothing when a codec is not available; `error` says why.
  static std::unique_ptr<audio_transcoder> create(const audio_format& in, const audio_format& out, int frame_ms,
                                                  std::string* error = nullptr);
  ~audio_transcoder();
  audio_transcoder(const audio_transcoder&) = delete;
  audio_transcoder& operator=(const audio_transcoder&) = delete;

  // One encoded input packet; complete output packets are appended. A packet the decoder
  // refuses is counted and skipped (a lost or damaged frame is not the end of a call).
  void push(std::span<const std::uint8_t> packet, std::vector<audio_packet>& out);
  // Packets that never came (the jitter buffer gave up on them): `input_samples` of silence at
  // the input rate take their place, so the output keeps its timing and the far end hears a
  // gap rather than a jump. (Codec concealment would sound better for Opus and Speex; silence
  // works for every codec.)
  void conceal(int input_samples, std::vector<audio_packet>& out);
  // Drains the decoder, the resampler and the encoder (the remainder padded with silence).
  void flush(std::vector<audio_packet>& out);

  const audio_format& output() const noexcept;
  // The output codec's setup data once the encoder is open (AAC: its AudioSpecificConfig).
  std::vector<std::uint8_t> output_extradata() const;
  int output_frame_samples() const noexcept;
  const transcoder_counters& counters() const noexcept;

 private:
  struct impl;
  explicit audio_transcoder(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

// Is there a decoder and an encoder in this libavcodec for the codec?
bool can_decode(media::codec c) noexcept;
bool can_encode(media::codec c) noexcept;

}  // namespace junction::transcode
