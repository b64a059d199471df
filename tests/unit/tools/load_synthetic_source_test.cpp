#include "junction-load/synthetic_source.hpp"

#include "junction-load/frame_stamp.hpp"
#include "media/amf/amf0.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace junction::load {
namespace {

using namespace std::chrono_literals;

std::vector<media::frame> run_for(synthetic_source& s, std::chrono::nanoseconds until, std::int64_t now_ns = 42) {
  std::vector<media::frame> out;
  s.take_due(until, now_ns, out);
  return out;
}

TEST(load_synthetic_source, header_frames_are_metadata_and_real_decoder_configuration) {
  synthetic_source s{{}, 0};
  auto header = s.header_frames();
  ASSERT_EQ(header.size(), 3u);
  EXPECT_EQ(header[0].track, media::track::data);
  std::vector<media::amf::value> values;
  ASSERT_FALSE(media::amf::decode_amf0(header[0].payload.bytes(), values));
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].string_or(), "@setDataFrame");
  EXPECT_EQ(values[1].string_or(), "onMetaData");
  EXPECT_EQ(values[2].get_number("videocodecid", 0), 7);
  EXPECT_EQ(values[2].get_number("audiocodecid", 0), 10);
  EXPECT_EQ(values[2].get_number("videodatarate", 0), 2000);

  EXPECT_TRUE(header[1].is_video());
  EXPECT_EQ(header[1].codec, media::codec::h264);
  EXPECT_TRUE(header[1].config);
  const auto avc = header[1].payload.bytes();
  ASSERT_GT(avc.size(), 13u);
  EXPECT_EQ(avc[5], std::byte{1}) << "configurationVersion";
  EXPECT_EQ(avc[13], std::byte{0x67}) << "an SPS NAL unit";
  EXPECT_TRUE(header[2].is_audio());
  EXPECT_EQ(header[2].codec, media::codec::aac);
  EXPECT_TRUE(header[2].config);

  synthetic_source silent{{.audio_bitrate = 0}, 0};
  EXPECT_EQ(silent.header_frames().size(), 2u);
}

TEST(load_synthetic_source, frames_come_when_due_in_timestamp_order) {
  synthetic_source s{{.fps = 25}, 0};
  std::vector<media::frame> out;
  const auto next = s.take_due(0ns, 1, out);
  ASSERT_EQ(out.size(), 2u) << "video 0 and audio 0 are due at once";
  EXPECT_EQ(next, 1024ns * 1'000'000'000 / 44100) << "the next audio frame, 23.2 ms";
  out.clear();
  EXPECT_EQ(s.take_due(10ms, 1, out), next);
  EXPECT_TRUE(out.empty());

  synthetic_source t{{.fps = 25}, 0};
  auto frames = run_for(t, 10s);
  std::size_t video = 0, audio = 0;
  std::uint32_t last_ts = 0;
  for (const auto& f : frames) {
    EXPECT_GE(f.timestamp, last_ts);
    last_ts = f.timestamp;
    (f.is_video() ? video : audio)++;
  }
  EXPECT_EQ(video, 251u) << "0 .. 10 s inclusive at 25 fps";
  EXPECT_EQ(audio, 431u) << "1024-sample frames at 44.1 kHz";
  EXPECT_EQ(last_ts, 10000u);
}

TEST(load_synthetic_source, keyframes_every_gop_and_the_bitrate_holds) {
  const synthetic_settings settings{.bitrate = 2'000'000, .fps = 25, .gop = 50, .audio_bitrate = 128'000};
  synthetic_source s{settings, 0};
  EXPECT_NEAR(static_cast<double>(s.keyframe_size()), 5.0 * static_cast<double>(s.inter_frame_size()), 5);
  EXPECT_EQ(s.audio_frame_size(), 372u) << "128000 / 8 * 1024 / 44100 = 371.5";
  // Four whole groups of pictures: 8 s.
  auto frames = run_for(s, 8s - 1ns);
  std::uint64_t video_bytes = 0, audio_bytes = 0;
  std::uint32_t n = 0;
  for (const auto& f : frames) {
    if (f.is_audio()) {
      audio_bytes += f.payload.size();
      continue;
    }
    EXPECT_EQ(f.keyframe, n % 50 == 0) << n;
    EXPECT_EQ(f.codec, media::codec::h264);
    EXPECT_FALSE(f.config);
    video_bytes += f.payload.size();
    ++n;
  }
  ASSERT_EQ(n, 200u);
  EXPECT_NEAR(static_cast<double>(video_bytes) * 8 / 8, 2'000'000.0, 2'000'000.0 * 0.001);
  EXPECT_NEAR(static_cast<double>(audio_bytes) * 8 / 8, 128'000.0, 128'000.0 * 0.01);
}

TEST(load_synthetic_source, every_frame_carries_its_stamp) {
  synthetic_source s{{}, 5};
  auto frames = run_for(s, 3s, 777);
  std::uint32_t video = 0, audio = 0;
  for (const auto& f : frames) {
    auto stamp = read_stamp(f.track, f.payload.bytes());
    ASSERT_TRUE(stamp);
    EXPECT_EQ(stamp->stream, 5u);
    EXPECT_EQ(stamp->sent_ns, 777);
    EXPECT_EQ(stamp->sequence, f.is_video() ? video++ : audio++);
    if (f.is_video()) {
      const auto b = f.payload.bytes();
      const auto nal_size = std::uint32_t(b[5]) << 24 | std::uint32_t(b[6]) << 16 | std::uint32_t(b[7]) << 8 | std::uint32_t(b[8]);
      EXPECT_EQ(nal_size + 9, b.size()) << "the NAL length covers the rest of the body";
      EXPECT_EQ(b[9], f.keyframe ? std::byte{0x65} : std::byte{0x41});
    }
  }
}

TEST(load_synthetic_source, tiny_bitrates_still_fit_the_stamp) {
  synthetic_source s{{.bitrate = 1000, .fps = 60, .gop = 1, .audio_bitrate = 1000}, 0};
  EXPECT_GE(s.inter_frame_size(), video_stamp_offset + stamp_size);
  EXPECT_GE(s.keyframe_size(), video_stamp_offset + stamp_size);
  EXPECT_GE(s.audio_frame_size(), audio_stamp_offset + stamp_size);
  for (const auto& f : run_for(s, 1s)) EXPECT_TRUE(read_stamp(f.track, f.payload.bytes()));
}

}  // namespace
}  // namespace junction::load
