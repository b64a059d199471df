#include "transcode/audio_transcoder.hpp"

#include "transcode/libav_handles.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace junction::transcode {
namespace {

// Implementations by name, in order of preference: the native decoders are as good and need no library;
// encoding Speex, MP3 and Opus needs the reference libraries.
std::vector<const char*> decoders_for(media::codec c) {
  switch (c) {
    case media::codec::speex: return {"libspeex", "speex"};
    case media::codec::nellymoser: return {"nellymoser"};
    case media::codec::aac: return {"aac", "aac_fixed"};
    case media::codec::mp3: return {"mp3float", "mp3"};
    case media::codec::g711u: return {"pcm_mulaw"};
    case media::codec::g711a: return {"pcm_alaw"};
    case media::codec::g722: return {"g722"};
    case media::codec::opus: return {"opus", "libopus"};
    case media::codec::pcm_le: return {"pcm_s16le"};  // raw PCM in and out (mixing, recording)
    default: return {};
  }
}

std::vector<const char*> encoders_for(media::codec c) {
  switch (c) {
    case media::codec::speex: return {"libspeex"};
    case media::codec::nellymoser: return {"nellymoser"};
    case media::codec::aac: return {"aac"};
    case media::codec::mp3: return {"libmp3lame", "libshine"};
    case media::codec::g711u: return {"pcm_mulaw"};
    case media::codec::g711a: return {"pcm_alaw"};
    case media::codec::g722: return {"g722"};
    case media::codec::opus: return {"libopus", "opus"};
    case media::codec::pcm_le: return {"pcm_s16le"};
    default: return {};
  }
}

template <class Find>
const AVCodec* first_of(const std::vector<const char*>& names, Find find) {
  for (const char* n : names)
    if (const AVCodec* c = find(n)) return c;
  return nullptr;
}

std::string av_error(int e) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(e, buf, sizeof buf);
  return buf;
}

struct swr_free_ {
  void operator()(SwrContext* s) const noexcept { swr_free(&s); }
};
struct fifo_free {
  void operator()(AVAudioFifo* f) const noexcept { av_audio_fifo_free(f); }
};

int usual_bitrate(const audio_format& f) {
  if (f.bitrate) return f.bitrate;
  switch (f.codec) {
    case media::codec::aac: return f.channels > 1 ? 96000 : 64000;
    case media::codec::mp3: return 64000;
    case media::codec::opus: return f.channels > 1 ? 48000 : 32000;
    case media::codec::speex: return 0;  // libspeex: quality-driven VBR off, its own default
    default: return 0;
  }
}

}  // namespace

bool can_decode(media::codec c) noexcept { return first_of(decoders_for(c), avcodec_find_decoder_by_name) != nullptr; }
bool can_encode(media::codec c) noexcept { return first_of(encoders_for(c), avcodec_find_encoder_by_name) != nullptr; }

struct audio_transcoder::impl {
  audio_format in, out;
  int frame_samples = 0;  // per output packet
  codec_context_ptr dec, enc;
  std::unique_ptr<SwrContext, swr_free_> swr;
  std::unique_ptr<AVAudioFifo, fifo_free> fifo;
  frame_ptr decoded{av_frame_alloc()}, to_encode{av_frame_alloc()};
  packet_ptr packet{av_packet_alloc()};
  // What the resampler was set up for (a decoder may change rate or layout mid-stream).
  int swr_rate = 0;
  AVSampleFormat swr_format = AV_SAMPLE_FMT_NONE;
  AVChannelLayout swr_layout{};
  std::int64_t next_pts = 0;
  transcoder_counters counters;

  ~impl() { av_channel_layout_uninit(&swr_layout); }

  bool open(std::string& error, int frame_ms) {
    const AVCodec* d = first_of(decoders_for(in.codec), avcodec_find_decoder_by_name);
    const AVCodec* e = first_of(encoders_for(out.codec), avcodec_find_encoder_by_name);
    if (!d) return error = fmt::format("no decoder for {}", media::codec_name(in.codec)), false;
    if (!e) return error = fmt::format("no encoder for {}", media::codec_name(out.codec)), false;
    dec.reset(avcodec_alloc_context3(d));
    dec->sample_rate = in.sample_rate;
    av_channel_layout_default(&dec->ch_layout, in.channels);
    set_extradata(dec.get(), in.extradata);
    if (int r = avcodec_open2(dec.get(), d, nullptr); r < 0)
      return error = fmt::format("{} decoder: {}", d->name, av_error(r)), false;

    enc.reset(avcodec_alloc_context3(e));
    enc->sample_rate = out.sample_rate;
    av_channel_layout_default(&enc->ch_layout, out.channels);
    enc->sample_fmt = e->sample_fmts ? e->sample_fmts[0] : AV_SAMPLE_FMT_S16;
    for (auto f = e->sample_fmts; f && *f != AV_SAMPLE_FMT_NONE; ++f)
      if (*f == AV_SAMPLE_FMT_S16) enc->sample_fmt = AV_SAMPLE_FMT_S16;  // cheapest to feed
    enc->time_base = AVRational{1, out.sample_rate};
    if (int rate = usual_bitrate(out)) enc->bit_rate = rate;
    if (out.codec == media::codec::opus) av_opt_set(enc->priv_data, "application", "voip", 0);
    if (int r = avcodec_open2(enc.get(), e, nullptr); r < 0)
      return error = fmt::format("{} encoder at {} Hz, {} channel(s): {}", e->name, out.sample_rate, out.channels, av_error(r)), false;
    // Fixed-frame codecs say how many samples they take; the others get the negotiated ptime.
    frame_samples = enc->frame_size > 0 ? enc->frame_size : out.sample_rate * frame_ms / 1000;
    if (frame_samples <= 0) return error = "frame length is zero", false;
    fifo.reset(av_audio_fifo_alloc(enc->sample_fmt, out.channels, frame_samples * 4));
    return fifo != nullptr;
  }

  bool ensure_resampler(const AVFrame& f) {
    if (swr && f.sample_rate == swr_rate && f.format == swr_format && !av_channel_layout_compare(&f.ch_layout, &swr_layout))
      return true;
    SwrContext* raw = nullptr;
    if (swr_alloc_set_opts2(&raw, &enc->ch_layout, enc->sample_fmt, enc->sample_rate, const_cast<AVChannelLayout*>(&f.ch_layout),
                            static_cast<AVSampleFormat>(f.format), f.sample_rate, 0, nullptr) < 0)
      return false;
    swr.reset(raw);
    // A mono voice goes to every channel of a stereo codec at its own level: libswresample's
    // own matrix puts it 3 dB down on each side (a pan law for mixes, not for calls).
    if (f.ch_layout.nb_channels == 1 && enc->ch_layout.nb_channels > 1) {
      const std::vector<double> unity(static_cast<std::size_t>(enc->ch_layout.nb_channels), 1.0);
      if (swr_set_matrix(swr.get(), unity.data(), 1) < 0) return false;
    }
    if (swr_init(swr.get()) < 0) return false;
    swr_rate = f.sample_rate;
    swr_format = static_cast<AVSampleFormat>(f.format);
    av_channel_layout_uninit(&swr_layout);
    av_channel_layout_copy(&swr_layout, &f.ch_layout);
    return true;
  }

  // Resamples `f` (or, with null, what the resampler still holds) into the FIFO.
  void resample(const AVFrame* f) {
    if (!swr) return;
    const int in_samples = f ? f->nb_samples : 0;
    const int room = swr_get_out_samples(swr.get(), in_samples);
    if (room <= 0) return;
    std::uint8_t** planes = nullptr;
    if (av_samples_alloc_array_and_samples(&planes, nullptr, out.channels, room, enc->sample_fmt, 0) < 0) return;
    const int n = swr_convert(swr.get(), planes, room, f ? const_cast<const std::uint8_t**>(f->extended_data) : nullptr,
                              in_samples);
    if (n > 0) av_audio_fifo_write(fifo.get(), reinterpret_cast<void**>(planes), n);
    av_freep(&planes[0]);
    av_freep(&planes);
  }

  void drain_encoder(std::vector<audio_packet>& result) {
    while (avcodec_receive_packet(enc.get(), packet.get()) == 0) {
      result.push_back({std::vector<std::uint8_t>(packet->data, packet->data + packet->size), packet->pts,
                        static_cast<int>(packet->duration)});
      ++counters.packets_out;
      av_packet_unref(packet.get());
    }
  }

  void encode_from_fifo(std::vector<audio_packet>& result, bool pad) {
    for (;;) {
      int have = av_audio_fifo_size(fifo.get());
      if (have == 0 || (have < frame_samples && !pad)) return;
      AVFrame* f = to_encode.get();
      av_frame_unref(f);
      f->nb_samples = frame_samples;
      f->format = enc->sample_fmt;
      f->sample_rate = enc->sample_rate;
      av_channel_layout_copy(&f->ch_layout, &enc->ch_layout);
      if (av_frame_get_buffer(f, 0) < 0) return;
      av_samples_set_silence(f->extended_data, 0, frame_samples, out.channels, enc->sample_fmt);
      av_audio_fifo_read(fifo.get(), reinterpret_cast<void**>(f->extended_data), std::min(have, frame_samples));
      f->pts = next_pts;
      next_pts += frame_samples;
      if (avcodec_send_frame(enc.get(), f) < 0) return;
      drain_encoder(result);
    }
  }

  void drain_decoder(std::vector<audio_packet>& result) {
    while (avcodec_receive_frame(dec.get(), decoded.get()) == 0) {
      if (ensure_resampler(*decoded)) resample(decoded.get());
      av_frame_unref(decoded.get());
      encode_from_fifo(result, false);
    }
  }
};

audio_transcoder::audio_transcoder(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
audio_transcoder::~audio_transcoder() = default;

std::unique_ptr<audio_transcoder> audio_transcoder::create(const audio_format& in, const audio_format& out, int frame_ms,
                                                           std::string* error) {
  quiet_libav();
  auto i = std::make_unique<impl>();
  i->in = in;
  i->out = out;
  std::string why;
  if (!i->open(why, frame_ms)) {
    if (error) *error = why.empty() ? "cannot allocate" : why;
    return nullptr;
  }
  return std::unique_ptr<audio_transcoder>(new audio_transcoder(std::move(i)));
}

void audio_transcoder::push(std::span<const std::uint8_t> data, std::vector<audio_packet>& out) {
  auto& i = *impl_;
  ++i.counters.packets_in;
  if (data.empty()) return;
  // libavcodec may read a little past the end: a padded copy.
  if (av_new_packet(i.packet.get(), static_cast<int>(data.size())) < 0) return;
  std::copy(data.begin(), data.end(), i.packet->data);
  int r = avcodec_send_packet(i.dec.get(), i.packet.get());
  av_packet_unref(i.packet.get());
  if (r < 0 && r != AVERROR(EAGAIN)) {
    // A damaged packet can leave a decoder mid-frame (libspeex keeps its unread bits, and then
    // refused the next 19 good packets in a test): start the next packet from a clean state.
    ++i.counters.decode_errors;
    avcodec_flush_buffers(i.dec.get());
    return;
  }
  i.drain_decoder(out);
}

void audio_transcoder::conceal(int input_samples, std::vector<audio_packet>& out) {
  auto& i = *impl_;
  if (input_samples <= 0 || !i.fifo) return;
  const auto samples = static_cast<int>(std::int64_t{input_samples} * i.out.sample_rate / std::max(i.in.sample_rate, 1));
  std::uint8_t** planes = nullptr;
  if (av_samples_alloc_array_and_samples(&planes, nullptr, i.out.channels, samples, i.enc->sample_fmt, 0) < 0) return;
  av_samples_set_silence(planes, 0, samples, i.out.channels, i.enc->sample_fmt);
  av_audio_fifo_write(i.fifo.get(), reinterpret_cast<void**>(planes), samples);
  av_freep(&planes[0]);
  av_freep(&planes);
  i.encode_from_fifo(out, false);
}

void audio_transcoder::flush(std::vector<audio_packet>& out) {
  auto& i = *impl_;
  avcodec_send_packet(i.dec.get(), nullptr);
  i.drain_decoder(out);
  i.resample(nullptr);
  i.encode_from_fifo(out, true);
  avcodec_send_frame(i.enc.get(), nullptr);
  i.drain_encoder(out);
}

const audio_format& audio_transcoder::output() const noexcept { return impl_->out; }
int audio_transcoder::output_frame_samples() const noexcept { return impl_->frame_samples; }
const transcoder_counters& audio_transcoder::counters() const noexcept { return impl_->counters; }

std::vector<std::uint8_t> audio_transcoder::output_extradata() const {
  const AVCodecContext* e = impl_->enc.get();
  if (!e->extradata || e->extradata_size <= 0) return {};
  return {e->extradata, e->extradata + e->extradata_size};
}

}  // namespace junction::transcode
