// Audio transcoding per 20 ms frame through junction's transcoder, against the floor: a bare loop
// over the same libavcodec/libswresample calls (decode, resample, FIFO, encode) with nothing
// around them. Channels per core = 50 frames/s per direction: items_per_second / 50. Also the
// H.264 packetizer's throughput both ways. Report: docs/benchmarks.md.
#include <benchmark/benchmark.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include <cmath>
#include <numbers>

#include "media/h264/rtp_payload.hpp"
#include "transcode/audio_transcoder.hpp"

namespace {

using namespace junction;
using transcode::audio_format;

const audio_format pcmu{media::codec::g711u, 8000, 1, {}, 0};
const audio_format speex16{media::codec::speex, 16000, 1, {}, 0};
const audio_format nelly16{media::codec::nellymoser, 16000, 1, {}, 0};

const char* encoder_name(media::codec c) {
  return c == media::codec::speex ? "libspeex" : c == media::codec::nellymoser ? "nellymoser" : "pcm_mulaw";
}
const char* decoder_name(media::codec c) {
  return c == media::codec::speex ? "libspeex" : c == media::codec::nellymoser ? "nellymoser" : "pcm_mulaw";
}

AVCodecContext* open_codec(const AVCodec* codec, const audio_format& f, bool encoder) {
  AVCodecContext* c = avcodec_alloc_context3(codec);
  c->sample_rate = f.sample_rate;
  av_channel_layout_default(&c->ch_layout, f.channels);
  if (encoder) {
    c->sample_fmt = codec->sample_fmts[0];
    for (auto s = codec->sample_fmts; *s != AV_SAMPLE_FMT_NONE; ++s)
      if (*s == AV_SAMPLE_FMT_S16) c->sample_fmt = AV_SAMPLE_FMT_S16;
    c->time_base = {1, f.sample_rate};
  }
  if (avcodec_open2(c, codec, nullptr) < 0) std::abort();
  return c;
}

// Ten seconds of a 1 kHz tone, encoded in `f`: the packets a caller would send.
std::vector<std::vector<std::uint8_t>> tone_packets(const audio_format& f) {
  AVCodecContext* enc = open_codec(avcodec_find_encoder_by_name(encoder_name(f.codec)), f, true);
  const int frame = enc->frame_size > 0 ? enc->frame_size : f.sample_rate / 50;
  std::vector<std::vector<std::uint8_t>> out;
  AVFrame* fr = av_frame_alloc();
  AVPacket* p = av_packet_alloc();
  for (int n = 0; n < f.sample_rate * 10 / frame; ++n) {
    fr->nb_samples = frame;
    fr->format = enc->sample_fmt;
    av_channel_layout_copy(&fr->ch_layout, &enc->ch_layout);
    av_frame_get_buffer(fr, 0);
    for (int i = 0; i < frame; ++i) {
      double v = 0.25 * std::sin(2 * std::numbers::pi * 1000 * (n * frame + i) / f.sample_rate);
      if (enc->sample_fmt == AV_SAMPLE_FMT_S16) reinterpret_cast<std::int16_t*>(fr->data[0])[i] = static_cast<std::int16_t>(v * 32767);
      else reinterpret_cast<float*>(fr->data[0])[i] = static_cast<float>(v);
    }
    fr->pts = n * frame;
    avcodec_send_frame(enc, fr);
    while (avcodec_receive_packet(enc, p) == 0) {
      out.emplace_back(p->data, p->data + p->size);
      av_packet_unref(p);
    }
    av_frame_unref(fr);
  }
  av_packet_free(&p);
  av_frame_free(&fr);
  avcodec_free_context(&enc);
  return out;
}

void junction_chain(benchmark::State& state, audio_format in, audio_format out) {
  auto packets = tone_packets(in);
  std::string error;
  auto t = transcode::audio_transcoder::create(in, out, 20, &error);
  if (!t) return state.SkipWithError(error.c_str());
  std::vector<transcode::audio_packet> produced;
  std::size_t i = 0;
  for (auto _ : state) {
    produced.clear();
    t->push(packets[i++ % packets.size()], produced);
    benchmark::DoNotOptimize(produced.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// The floor: the same calls, buffers allocated once, no copies beyond what libavcodec needs.
void bare_chain(benchmark::State& state, audio_format in, audio_format out) {
  auto packets = tone_packets(in);
  AVCodecContext* dec = open_codec(avcodec_find_decoder_by_name(decoder_name(in.codec)), in, false);
  AVCodecContext* enc = open_codec(avcodec_find_encoder_by_name(encoder_name(out.codec)), out, true);
  const int frame = enc->frame_size > 0 ? enc->frame_size : out.sample_rate / 50;
  SwrContext* swr = nullptr;
  swr_alloc_set_opts2(&swr, &enc->ch_layout, enc->sample_fmt, enc->sample_rate, &dec->ch_layout, dec->sample_fmt,
                      dec->sample_rate, 0, nullptr);
  swr_init(swr);
  AVAudioFifo* fifo = av_audio_fifo_alloc(enc->sample_fmt, 1, frame * 8);
  AVFrame* decoded = av_frame_alloc();
  AVFrame* to_encode = av_frame_alloc();
  to_encode->nb_samples = frame;
  to_encode->format = enc->sample_fmt;
  av_channel_layout_copy(&to_encode->ch_layout, &enc->ch_layout);
  av_frame_get_buffer(to_encode, 0);
  AVPacket* p = av_packet_alloc();
  std::vector<std::uint8_t*> planes(1);
  std::vector<std::uint8_t> resampled(1 << 16);
  std::int64_t pts = 0;
  std::vector<AVPacket*> inputs;
  for (const auto& pk : packets) {
    AVPacket* q = av_packet_alloc();
    av_new_packet(q, static_cast<int>(pk.size()));
    std::copy(pk.begin(), pk.end(), q->data);
    inputs.push_back(q);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    avcodec_send_packet(dec, inputs[i++ % inputs.size()]);
    while (avcodec_receive_frame(dec, decoded) == 0) {
      planes[0] = resampled.data();
      int n = swr_convert(swr, planes.data(), 8192, const_cast<const std::uint8_t**>(decoded->extended_data), decoded->nb_samples);
      av_audio_fifo_write(fifo, reinterpret_cast<void**>(planes.data()), n);
      while (av_audio_fifo_size(fifo) >= frame) {
        av_frame_make_writable(to_encode);
        av_audio_fifo_read(fifo, reinterpret_cast<void**>(to_encode->extended_data), frame);
        to_encode->pts = pts;
        pts += frame;
        avcodec_send_frame(enc, to_encode);
        while (avcodec_receive_packet(enc, p) == 0) {
          benchmark::DoNotOptimize(p->data);
          av_packet_unref(p);
        }
      }
      av_frame_unref(decoded);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  for (auto* q : inputs) av_packet_free(&q);
  av_packet_free(&p);
  av_frame_free(&decoded);
  av_frame_free(&to_encode);
  av_audio_fifo_free(fifo);
  swr_free(&swr);
  avcodec_free_context(&dec);
  avcodec_free_context(&enc);
}

BENCHMARK_CAPTURE(junction_chain, speex16k_to_pcmu, speex16, pcmu);
BENCHMARK_CAPTURE(bare_chain, speex16k_to_pcmu, speex16, pcmu);
BENCHMARK_CAPTURE(junction_chain, nellymoser16k_to_pcmu, nelly16, pcmu);
BENCHMARK_CAPTURE(bare_chain, nellymoser16k_to_pcmu, nelly16, pcmu);
BENCHMARK_CAPTURE(junction_chain, pcmu_to_speex16k, pcmu, speex16);
BENCHMARK_CAPTURE(bare_chain, pcmu_to_speex16k, pcmu, speex16);

// A synthetic H.264 stream: one 100 KB IDR and 29 inter frames of 8 KB per second at 30 fps.
std::vector<media::frame> h264_frames() {
  std::vector<media::frame> out;
  std::vector<std::uint8_t> config{0x17, 0, 0, 0, 0, 1, 0x42, 0xE0, 0x1F, 0xFF, 0xE1, 0, 4, 0x67, 0x42, 0xE0, 0x1F, 1, 0, 2, 0x68, 0xCE};
  out.push_back(media::make_frame(media::track::video, 0, shared_buffer::copy_of({reinterpret_cast<const std::byte*>(config.data()), config.size()})));
  for (int i = 0; i < 30; ++i) {
    const std::size_t size = i == 0 ? 100'000 : 8'000;
    std::vector<std::uint8_t> body{static_cast<std::uint8_t>(i == 0 ? 0x17 : 0x27), 1, 0, 0, 0};
    body.push_back(static_cast<std::uint8_t>(size >> 24));
    body.push_back(static_cast<std::uint8_t>(size >> 16));
    body.push_back(static_cast<std::uint8_t>(size >> 8));
    body.push_back(static_cast<std::uint8_t>(size));
    body.push_back(i == 0 ? 0x65 : 0x41);
    body.resize(body.size() + size - 1, 0xAB);
    out.push_back(media::make_frame(media::track::video, static_cast<std::uint32_t>(i * 33),
                                    shared_buffer::copy_of({reinterpret_cast<const std::byte*>(body.data()), body.size()})));
  }
  return out;
}

void h264_flv_to_rtp(benchmark::State& state) {
  auto frames = h264_frames();
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += f.payload.size();
  media::h264::rtp_packetizer p({.payload_type = 96, .ssrc = 1, .packetization_mode = 1, .mtu = 1200,
                                 .first_sequence = 0, .first_timestamp = 0});
  std::vector<std::vector<std::uint8_t>> out;
  for (auto _ : state) {
    out.clear();
    for (const auto& f : frames) p.packetize(f, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(h264_flv_to_rtp);

void h264_rtp_to_flv(benchmark::State& state) {
  auto frames = h264_frames();
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += f.payload.size();
  media::h264::rtp_packetizer p({.payload_type = 96, .ssrc = 1, .packetization_mode = 1, .mtu = 1200,
                                 .first_sequence = 0, .first_timestamp = 0});
  std::vector<std::vector<std::uint8_t>> packets;
  for (int round = 0; round < 4; ++round)
    for (std::size_t i = round == 0 ? 0 : 1; i < frames.size(); ++i) {
      media::frame f = frames[i];
      f.timestamp += static_cast<std::uint32_t>(round * 1000);
      p.packetize(f, packets);
    }
  std::vector<junction::media::rtp::packet> parsed;
  for (const auto& d : packets) parsed.push_back(*junction::media::rtp::parse_packet(d).packet);
  std::vector<media::frame> out;
  for (auto _ : state) {
    media::h264::rtp_depacketizer d;
    out.clear();
    for (const auto& pk : parsed) d.push(pk, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes * 4));
}
BENCHMARK(h264_rtp_to_flv);

}  // namespace
