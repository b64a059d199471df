#include "transcode/video_transcoder.hpp"

#include "transcode/libav_handles.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "media/flv_reader.hpp"
#include "../support/vp8_stream.hpp"

namespace junction::transcode {
namespace {

namespace fs = std::filesystem;

// 2 s of ffmpeg's test pattern at 25 fps, 320x240, in `codec_args`, read back as frames.
std::vector<media::frame> ffmpeg_video(const std::string& name, const std::string& codec_args) {
  fs::path file = fs::temp_directory_path() / ("junction-video-" + std::to_string(::getpid()) + "-" + name + ".flv");
  std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 2 "
                    "-pix_fmt yuv420p " + codec_args + " -f flv " + file.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  fs::remove(file);
  media::flv::reader reader;
  std::vector<media::frame> all, video;
  reader.feed(std::as_bytes(std::span(bytes)), all);
  for (auto& f : all)
    if (f.is_video()) video.push_back(f);
  return video;
}

bool is_picture(const media::frame& f) {
  auto b = f.payload.bytes();
  if (f.codec == media::codec::h264) return b.size() > 5 && b[1] == std::byte{1};
  return b.size() > 1;
}

// Decodes FLV video bodies with plain libavcodec: each picture's luma plane (320x240).
std::vector<std::vector<std::uint8_t>> decoded_luma(media::codec codec, const std::vector<media::frame>& frames) {
  const AVCodec* c = avcodec_find_decoder_by_name(codec == media::codec::h264 ? "h264"
                                                  : codec == media::codec::vp8 ? "vp8"
                                                                               : "flv");
  AVCodecContext* ctx = avcodec_alloc_context3(c);
  std::vector<std::uint8_t> extradata;
  for (const auto& f : frames) {
    auto b = f.payload.bytes();
    if (codec == media::codec::h264 && b.size() > 5 && b[1] == std::byte{0}) {
      extradata.assign(reinterpret_cast<const std::uint8_t*>(b.data()) + 5, reinterpret_cast<const std::uint8_t*>(b.data()) + b.size());
      break;
    }
  }
  set_extradata(ctx, extradata);
  EXPECT_EQ(avcodec_open2(ctx, c, nullptr), 0);
  AVPacket* p = av_packet_alloc();
  AVFrame* fr = av_frame_alloc();
  std::vector<std::vector<std::uint8_t>> pictures;
  auto take = [&] {
    while (avcodec_receive_frame(ctx, fr) == 0) {
      EXPECT_EQ(fr->width, 320);
      EXPECT_EQ(fr->height, 240);
      auto& luma = pictures.emplace_back();
      for (int y = 0; y < fr->height; ++y)
        luma.insert(luma.end(), fr->data[0] + y * fr->linesize[0], fr->data[0] + y * fr->linesize[0] + fr->width);
      av_frame_unref(fr);
    }
  };
  for (const auto& f : frames) {
    if (!is_picture(f)) continue;
    const std::size_t skip = codec == media::codec::h264 || codec == media::codec::vp8 ? 5 : 1;
    auto b = f.payload.bytes();
    av_new_packet(p, static_cast<int>(b.size() - skip));
    std::copy(reinterpret_cast<const std::uint8_t*>(b.data()) + skip, reinterpret_cast<const std::uint8_t*>(b.data()) + b.size(), p->data);
    EXPECT_EQ(avcodec_send_packet(ctx, p), 0);
    av_packet_unref(p);
    take();
  }
  avcodec_send_packet(ctx, nullptr);
  take();
  av_frame_free(&fr);
  av_packet_free(&p);
  avcodec_free_context(&ctx);
  return pictures;
}


// Luma PSNR of picture n of `out` against picture n of `in`: (average, worst), in dB.
std::pair<double, double> luma_psnr(const std::vector<std::vector<std::uint8_t>>& in,
                                    const std::vector<std::vector<std::uint8_t>>& out) {
  EXPECT_EQ(in.size(), out.size());
  double sum = 0, worst = 1e9;
  const std::size_t n = std::min(in.size(), out.size());
  for (std::size_t i = 0; i < n; ++i) {
    double squared = 0;
    for (std::size_t k = 0; k < in[i].size() && k < out[i].size(); ++k) {
      const double d = static_cast<double>(in[i][k]) - static_cast<double>(out[i][k]);
      squared += d * d;
    }
    const double mse = squared / static_cast<double>(in[i].size());
    const double db = mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
    sum += db;
    worst = std::min(worst, db);
  }
  return {n ? sum / static_cast<double>(n) : 0.0, worst};
}

TEST(VideoTranscoder, SorensonToH264ForPhones) {
  auto in = ffmpeg_video("flv1", "-c:v flv -g 25");
  ASSERT_EQ(in.size(), 50u);
  ASSERT_EQ(in[0].codec, media::codec::sorenson_h263);
  auto t = video_transcoder::create(media::codec::sorenson_h263, {.codec = media::codec::h264});
  ASSERT_TRUE(t);
  std::vector<media::frame> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == 30) t->request_keyframe();  // a PLI from the phone
    t->push(in[i], out);
  }
  t->flush(out);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out[0].config) << "a sequence header first";
  std::size_t pictures = 0;
  for (const auto& f : out) pictures += is_picture(f);
  EXPECT_EQ(pictures, in.size());
  // Each picture close to the Sorenson one it was made from. Floors 40 dB on average and 35 at
  // worst (measured: 57.6 and 44.3).
  const auto made = decoded_luma(media::codec::h264, out);
  EXPECT_EQ(made.size(), 50u);
  const auto [average, worst] = luma_psnr(decoded_luma(media::codec::sorenson_h263, in), made);
  std::printf("Sorenson -> H.264: luma PSNR %.1f dB on average, %.1f dB at worst\n", average, worst);
  EXPECT_GE(average, 40.0);
  EXPECT_GE(worst, 35.0);
  // The picture made from input frame 30 is a keyframe (x264 would not make one there by itself).
  std::size_t seen = 0;
  for (const auto& f : out) {
    if (!is_picture(f)) continue;
    if (seen++ == 30) {
      EXPECT_TRUE(f.keyframe);
    }
  }
  EXPECT_EQ(t->counters().decode_errors, 0u);
}

TEST(VideoTranscoder, H264ToSorensonForOldFlashPlayers) {
  auto in = ffmpeg_video("h264", "-c:v libx264 -profile:v baseline -preset ultrafast -g 25");
  ASSERT_GT(in.size(), 50u);  // the sequence header, 50 pictures and the end-of-sequence tag
  auto t = video_transcoder::create(media::codec::h264, {.codec = media::codec::sorenson_h263});
  ASSERT_TRUE(t);
  std::vector<media::frame> out;
  for (const auto& f : in) t->push(f, out);
  t->flush(out);
  EXPECT_EQ(out.size(), 50u);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].codec, media::codec::sorenson_h263);
  EXPECT_TRUE(out[0].keyframe);
  // Floors 35 dB on average and 32 at worst (measured: 40.2 and 37.4; Sorenson at its default
  // rate is the coarser codec).
  const auto made = decoded_luma(media::codec::sorenson_h263, out);
  EXPECT_EQ(made.size(), 50u);
  const auto [average, worst] = luma_psnr(decoded_luma(media::codec::h264, in), made);
  std::printf("H.264 -> Sorenson: luma PSNR %.1f dB on average, %.1f dB at worst\n", average, worst);
  EXPECT_GE(average, 35.0);
  EXPECT_GE(worst, 32.0);
}

TEST(VideoTranscoder, Vp8FromABrowserToH264ForRtmpPlayers) {
  const auto in = test::vp8_stream();
  ASSERT_EQ(in.size(), 50u);
  auto t = video_transcoder::create(media::codec::vp8, {.codec = media::codec::h264, .bitrate = 1'000'000});
  ASSERT_TRUE(t);
  std::vector<media::frame> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (i == 12) t->request_keyframe();  // a player joined
    t->push(in[i], out);
  }
  t->flush(out);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out[0].config);
  EXPECT_EQ(out[0].codec, media::codec::h264);
  std::size_t pictures = 0;
  for (const auto& f : out) {
    if (!is_picture(f)) continue;
    EXPECT_EQ(f.timestamp, pictures * 40) << "the input's timestamps";
    if (pictures == 0 || pictures == 12) EXPECT_TRUE(f.keyframe) << pictures;
    ++pictures;
  }
  EXPECT_EQ(pictures, in.size());
  // Floors 35 dB on average and 30 at worst against the VP8 pictures (a second lossy step).
  const auto [average, worst] = luma_psnr(decoded_luma(media::codec::vp8, in), decoded_luma(media::codec::h264, out));
  std::printf("VP8 -> H.264: luma PSNR %.1f dB on average, %.1f dB at worst\n", average, worst);
  EXPECT_GE(average, 35.0);
  EXPECT_GE(worst, 30.0);
  EXPECT_EQ(t->counters().decode_errors, 0u);
}

TEST(VideoTranscoder, WhatItRefuses) {
  std::string error;
  EXPECT_FALSE(video_transcoder::create(media::codec::vp6, {}, &error));
  EXPECT_EQ(error, "no decoder for vp6");
  EXPECT_FALSE(video_transcoder::create(media::codec::h264, {.codec = media::codec::av1}, &error));
  EXPECT_FALSE(needs_transcoding(media::codec::h264, media::codec::h264));
  EXPECT_TRUE(needs_transcoding(media::codec::sorenson_h263, media::codec::h264));
  // Garbage in: counted, not fatal.
  auto t = video_transcoder::create(media::codec::sorenson_h263, {.codec = media::codec::h264});
  std::vector<media::frame> out;
  std::vector<std::byte> junk(40, std::byte{0x22});
  t->push(media::make_frame(media::track::video, 0, shared_buffer::copy_of(junk)), out);
  t->flush(out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace junction::transcode
