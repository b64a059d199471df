#include "transcode/audio_transcoder.hpp"

#include "transcode/libav_handles.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numbers>
#include <optional>

namespace junction::transcode {
namespace {

namespace fs = std::filesystem;

// A 1 kHz sine, 2 s, made by ffmpeg in the source codec and container, demuxed into the codec
// packets a Flash client or a phone would send.
struct source {
  audio_format format;
  std::vector<std::vector<std::uint8_t>> packets;
};

source make_source(const std::string& name, const std::string& encode_args, int rate) {
  fs::path file = fs::temp_directory_path() / ("junction-tone-" + std::to_string(::getpid()) + "-" + name);
  std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i sine=frequency=1000:sample_rate=" +
                    std::to_string(rate) + ":duration=2 " + encode_args + " " + file.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  source s;
  AVFormatContext* fmt = nullptr;
  // Raw G.711 files carry no rate: their demuxer assumes 44.1 kHz unless told.
  AVDictionary* options = nullptr;
  av_dict_set_int(&options, "sample_rate", rate, 0);
  const int opened = avformat_open_input(&fmt, file.c_str(), nullptr, &options);
  av_dict_free(&options);
  if (opened < 0) {
    ADD_FAILURE() << "cannot open " << file;
    return s;
  }
  avformat_find_stream_info(fmt, nullptr);
  const AVCodecParameters* par = fmt->streams[0]->codecpar;
  s.format.sample_rate = par->sample_rate;
  s.format.channels = par->ch_layout.nb_channels;
  if (par->extradata_size > 0) s.format.extradata.assign(par->extradata, par->extradata + par->extradata_size);
  AVPacket* p = av_packet_alloc();
  while (av_read_frame(fmt, p) >= 0) {
    s.packets.emplace_back(p->data, p->data + p->size);
    av_packet_unref(p);
  }
  av_packet_free(&p);
  avformat_close_input(&fmt);
  fs::remove(file);
  return s;
}

// Decodes packets of `f` to mono float samples with a plain libavcodec decoder.
std::vector<float> decode(const audio_format& f, const std::vector<std::vector<std::uint8_t>>& packets) {
  const char* name = f.codec == media::codec::g711u ? "pcm_mulaw"
                     : f.codec == media::codec::g711a ? "pcm_alaw"
                     : f.codec == media::codec::g722 ? "g722"
                     : f.codec == media::codec::speex ? "libspeex"
                     : f.codec == media::codec::nellymoser ? "nellymoser"
                     : f.codec == media::codec::aac ? "aac"
                     : f.codec == media::codec::mp3 ? "mp3float"
                     : "libopus";
  const AVCodec* c = avcodec_find_decoder_by_name(name);
  AVCodecContext* ctx = avcodec_alloc_context3(c);
  ctx->sample_rate = f.sample_rate;
  av_channel_layout_default(&ctx->ch_layout, f.channels);
  set_extradata(ctx, f.extradata);
  EXPECT_EQ(avcodec_open2(ctx, c, nullptr), 0);
  std::vector<float> out;
  AVPacket* p = av_packet_alloc();
  AVFrame* fr = av_frame_alloc();
  auto take = [&] {
    while (avcodec_receive_frame(ctx, fr) == 0) {
      for (int i = 0; i < fr->nb_samples; ++i) {
        float v = 0;
        switch (fr->format) {
          case AV_SAMPLE_FMT_S16: v = reinterpret_cast<const std::int16_t*>(fr->data[0])[i * fr->ch_layout.nb_channels] / 32768.0f; break;
          case AV_SAMPLE_FMT_S16P: v = reinterpret_cast<const std::int16_t*>(fr->data[0])[i] / 32768.0f; break;
          case AV_SAMPLE_FMT_FLT: v = reinterpret_cast<const float*>(fr->data[0])[i * fr->ch_layout.nb_channels]; break;
          case AV_SAMPLE_FMT_FLTP: v = reinterpret_cast<const float*>(fr->data[0])[i]; break;
          default: ADD_FAILURE() << "sample format " << fr->format;
        }
        out.push_back(v);
      }
    }
  };
  for (const auto& pk : packets) {
    av_new_packet(p, static_cast<int>(pk.size()));
    std::copy(pk.begin(), pk.end(), p->data);
    avcodec_send_packet(ctx, p);
    av_packet_unref(p);
    take();
  }
  avcodec_send_packet(ctx, nullptr);
  take();
  av_frame_free(&fr);
  av_packet_free(&p);
  avcodec_free_context(&ctx);
  return out;
}

// The middle second: away from codec start-up and the padded end.
std::span<const float> middle(const std::vector<float>& s, int rate) {
  if (s.size() < static_cast<std::size_t>(rate)) return {};
  return std::span<const float>(s).subspan(s.size() / 2 - rate / 2, static_cast<std::size_t>(rate));
}

double power_at(std::span<const float> s, double frequency, int rate) {
  const double w = 2 * std::numbers::pi * frequency / rate, coeff = 2 * std::cos(w);
  double q1 = 0, q2 = 0;
  for (float x : s) {
    double q0 = coeff * q1 - q2 + x;
    q2 = q1;
    q1 = q0;
  }
  return q1 * q1 + q2 * q2 - coeff * q1 * q2;
}

double dominant_frequency(std::span<const float> s, int rate) {
  double best = 0, best_power = -1;
  for (double f = 50; f < rate / 2.0 - 50; f += 5) {
    double p = power_at(s, f, rate);
    if (p > best_power) best_power = p, best = f;
  }
  return best;
}

double rms_db(std::span<const float> s) {
  double sum = 0;
  for (float x : s) sum += double{x} * x;
  return 10 * std::log10(sum / static_cast<double>(s.size()) + 1e-20);
}

// How long the signal is on: from the first to the last 5 ms window whose level is within 6 dB
// of the middle second's.
double tone_seconds(const std::vector<float>& s, int rate) {
  const double floor = rms_db(middle(s, rate)) - 6;
  const std::size_t window = static_cast<std::size_t>(rate) / 200;
  std::optional<std::size_t> first, last;
  for (std::size_t at = 0; at + window <= s.size(); at += window) {
    if (rms_db(std::span<const float>(s).subspan(at, window)) < floor) continue;
    if (!first) first = at;
    last = at + window;
  }
  return first ? static_cast<double>(*last - *first) / rate : 0.0;
}

struct chain {
  std::string name;
  media::codec from;
  int from_rate;
  std::string encode;  // ffmpeg arguments for the source file, container included
  std::string file;    // its name (the extension picks the container)
  audio_format to;
};

class AudioChains : public ::testing::TestWithParam<chain> {};

TEST_P(AudioChains, KeepsTheToneAndItsLevel) {
  const chain& c = GetParam();
  source src = make_source(c.file, c.encode, c.from_rate);
  ASSERT_GT(src.packets.size(), 10u);
  src.format.codec = c.from;
  std::string error;
  auto t = audio_transcoder::create(src.format, c.to, 20, &error);
  ASSERT_TRUE(t) << error;
  std::vector<audio_packet> out;
  for (const auto& p : src.packets) t->push(p, out);
  t->flush(out);
  EXPECT_EQ(t->counters().decode_errors, 0u);
  ASSERT_GT(out.size(), 10u);
  // Fixed frame sizes where the codec has them; the ptime where it does not.
  // Each encoder's own frame, or the 20 ms ptime for codecs that take any length.
  const int want = c.to.codec == media::codec::aac          ? 1024
                   : c.to.codec == media::codec::nellymoser ? 256
                   : c.to.codec == media::codec::mp3        ? 1152
                   : c.to.codec == media::codec::opus       ? 960
                                                            : c.to.sample_rate / 50;
  EXPECT_EQ(t->output_frame_samples(), want);
  if (c.to.codec == media::codec::g711u || c.to.codec == media::codec::g711a) {
    for (std::size_t i = 0; i + 1 < out.size(); ++i) ASSERT_EQ(out[i].data.size(), 160u);
  }

  audio_format decoded_format = c.to;
  decoded_format.extradata = t->output_extradata();
  std::vector<std::vector<std::uint8_t>> packets;
  for (auto& p : out) packets.push_back(std::move(p.data));
  auto heard = decode(decoded_format, packets);
  auto sent = decode(src.format, src.packets);
  const int out_rate = c.to.codec == media::codec::opus ? 48000 : c.to.sample_rate;
  auto heard_mid = middle(heard, out_rate);
  auto sent_mid = middle(sent, src.format.sample_rate);
  ASSERT_FALSE(heard_mid.empty()) << "decoded " << heard.size() << " samples from " << packets.size() << " packets; the source decoded to " << sent.size();
  const double f = dominant_frequency(heard_mid, out_rate);
  EXPECT_NEAR(f, 1000.0, 20.0) << c.name;
  EXPECT_NEAR(rms_db(heard_mid), rms_db(sent_mid), 1.0) << c.name;
  // The tone lasts as long as it was sent, within one output frame (and the 5 ms window the
  // edges are found with): the encoder's priming and padding are silence, and no frame is lost
  // or added.
  const double frame_seconds = static_cast<double>(t->output_frame_samples()) / out_rate;
  EXPECT_NEAR(tone_seconds(heard, out_rate), tone_seconds(sent, src.format.sample_rate), frame_seconds + 0.005)
      << c.name;
}

const audio_format pcmu{media::codec::g711u, 8000, 1, {}, 0};
const audio_format pcma{media::codec::g711a, 8000, 1, {}, 0};
const audio_format speex16{media::codec::speex, 16000, 1, {}, 0};
const audio_format aac44{media::codec::aac, 44100, 1, {}, 0};
const audio_format g722{media::codec::g722, 16000, 1, {}, 0};
const audio_format opus48{media::codec::opus, 48000, 1, {}, 0};
const audio_format opus48_stereo{media::codec::opus, 48000, 2, {}, 0};
const audio_format speex8{media::codec::speex, 8000, 1, {}, 0};
const audio_format mp3_44{media::codec::mp3, 44100, 1, {}, 0};
// Nellymoser towards Flash at 11 kHz: libavcodec's encoder loses 5-8 dB of a 1 kHz tone at 8 and
// 16 kHz (its band layout), and none at 11, 22 or 44 kHz.
const audio_format nelly11{media::codec::nellymoser, 11025, 1, {}, 0};

INSTANTIATE_TEST_SUITE_P(
    Junction, AudioChains,
    ::testing::Values(
        chain{"Speex16kToPcmu", media::codec::speex, 16000, "-c:a libspeex -ac 1", "speex.flv", pcmu},
        chain{"NellymoserToPcma", media::codec::nellymoser, 16000, "-c:a nellymoser -ac 1", "nelly.flv", pcma},
        chain{"Nellymoser44kToPcmu", media::codec::nellymoser, 44100, "-c:a nellymoser -ac 1", "nelly44.flv", pcmu},
        chain{"PcmuToSpeex16k", media::codec::g711u, 8000, "-c:a pcm_mulaw -ac 1 -f mulaw", "tone.ul", speex16},
        chain{"PcmaToNellymoser", media::codec::g711a, 8000, "-c:a pcm_alaw -ac 1 -f alaw", "tone.al", nelly11},
        chain{"OpusToAac", media::codec::opus, 48000, "-c:a libopus -ac 1 -b:a 32k", "tone.ogg", aac44},
        chain{"AacToPcmu", media::codec::aac, 44100, "-c:a aac -ac 1", "aac.flv", pcmu},
        chain{"Mp3ToG722", media::codec::mp3, 44100, "-c:a libmp3lame -ac 1", "mp3.flv", g722},
        chain{"G722ToOpus", media::codec::g722, 16000, "-c:a g722 -ac 1 -f g722", "tone.g722", opus48},
        chain{"PcmuToAac", media::codec::g711u, 8000, "-c:a pcm_mulaw -ac 1 -f mulaw", "tone2.ul", aac44},
        // Narrowband Speex (SIP's speex/8000), MP3 out, and stereo in and out (channel mapping).
        chain{"Speex8kToPcma", media::codec::speex, 8000, "-c:a libspeex -ac 1", "speex8.ogg", pcma},
        chain{"PcmuToSpeex8k", media::codec::g711u, 8000, "-c:a pcm_mulaw -ac 1 -f mulaw", "tone3.ul", speex8},
        chain{"Speex16kToSpeex8k", media::codec::speex, 16000, "-c:a libspeex -ac 1", "speex16to8.flv", speex8},
        chain{"PcmaToMp3", media::codec::g711a, 8000, "-c:a pcm_alaw -ac 1 -f alaw", "tone2.al", mp3_44},
        chain{"StereoAacToPcmu", media::codec::aac, 44100, "-c:a aac -ac 2", "stereo.flv", pcmu},
        chain{"PcmuToStereoOpus", media::codec::g711u, 8000, "-c:a pcm_mulaw -ac 1 -f mulaw", "tone4.ul", opus48_stereo}),
    [](const auto& info) { return info.param.name; });

TEST(AudioTranscoder, UnavailableCodecsSayWhy) {
  std::string error;
  EXPECT_FALSE(audio_transcoder::create({media::codec::flac, 8000, 1, {}, 0}, pcmu, 20, &error));
  EXPECT_EQ(error, "no decoder for flac");
  EXPECT_FALSE(audio_transcoder::create(pcmu, {media::codec::speex, 44100, 1, {}, 0}, 20, &error));
  EXPECT_NE(error.find("libspeex encoder"), std::string::npos) << error;
}

TEST(AudioTranscoder, LostPacketsBecomeSilenceOfTheSameLength) {
  auto t = audio_transcoder::create(speex16, pcmu, 20);
  ASSERT_TRUE(t);
  std::vector<audio_packet> out;
  t->conceal(320 * 10, out);  // ten lost 20 ms Speex frames
  ASSERT_EQ(out.size(), 10u);
  for (const auto& p : out) {
    ASSERT_EQ(p.data.size(), 160u);
    for (auto b : p.data) EXPECT_TRUE(b == 0xFF || b == 0x7F);  // µ-law silence
  }
  EXPECT_EQ(out[9].pts, 9 * 160);
}

TEST(AudioTranscoder, DamagedPacketsAreSkippedNotFatal) {
  // Junk and empty packets in the middle of a real stream: the stream goes on around them.
  source src = make_source("damaged.flv", "-c:a libspeex -ac 1", 16000);
  ASSERT_GT(src.packets.size(), 50u);
  src.format.codec = media::codec::speex;
  auto t = audio_transcoder::create(src.format, pcmu, 20);
  ASSERT_TRUE(t);
  std::vector<audio_packet> out;
  std::vector<std::uint8_t> junk(3, 0xFF), empty;
  for (std::size_t i = 0; i < src.packets.size(); ++i) {
    if (i == 10) t->push(junk, out);
    if (i == 20) t->push(empty, out);
    t->push(src.packets[i], out);
  }
  t->flush(out);
  // The junk is refused, and only the junk: a decoder left mid-frame by it once refused the
  // next 19 good packets.
  EXPECT_EQ(t->counters().decode_errors, 1u);
  EXPECT_EQ(t->counters().packets_in, src.packets.size() + 2);
  // Every real 20 ms Speex frame still became a 20 ms µ-law one.
  EXPECT_GE(out.size(), src.packets.size());
  EXPECT_LE(out.size(), src.packets.size() + 2);
  std::vector<std::vector<std::uint8_t>> packets;
  for (auto& p : out) packets.push_back(std::move(p.data));
  auto heard = decode(pcmu, packets);
  EXPECT_NEAR(dominant_frequency(middle(heard, 8000), 8000), 1000.0, 20.0);
}

TEST(FlvAudio, HeadersReadAndWritten) {
  auto check = [](const audio_format& f) {
    auto header = flv_audio_header(f);
    ASSERT_TRUE(header) << describe(f);
    std::vector<std::uint8_t> body = *header;
    body.push_back(0x42);
    auto back = read_flv_audio(body);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->format.codec, f.codec);
    if (f.codec != media::codec::aac && f.codec != media::codec::mp3) {
      EXPECT_EQ(back->format.sample_rate, f.sample_rate);
    }
    ASSERT_EQ(back->data.size(), 1u);
    EXPECT_EQ(back->data[0], 0x42);
  };
  check(speex16);
  check(nelly11);
  check({media::codec::nellymoser, 16000, 1, {}, 0});
  check({media::codec::nellymoser, 44100, 1, {}, 0});
  check(pcmu);
  check(pcma);
  check(aac44);
  EXPECT_FALSE(flv_audio_header(g722));  // Flash has no G.722
  EXPECT_FALSE(flv_audio_header({media::codec::speex, 8000, 1, {}, 0}));
  std::vector<std::uint8_t> aac_config{0xAF, 0x00, 0x12, 0x10};
  EXPECT_TRUE(read_flv_audio(aac_config)->aac_config);
  EXPECT_FALSE(read_flv_audio(std::vector<std::uint8_t>{0x00}));  // linear PCM: not transcoded here
}

}  // namespace
}  // namespace junction::transcode
