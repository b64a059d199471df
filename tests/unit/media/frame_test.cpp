#include "media/frame.hpp"

#include <gtest/gtest.h>

#include <initializer_list>

namespace junction::media {
namespace {

shared_buffer bytes(std::initializer_list<unsigned> values) {
  std::vector<std::byte> v;
  for (unsigned x : values) v.push_back(std::byte(x));
  return shared_buffer::copy_of(v);
}

struct video_case {
  const char* name;
  shared_buffer body;
  codec expected;
  bool keyframe, config;
};

TEST(frame, reads_legacy_and_enhanced_video_headers) {
  const video_case cases[] = {
      {"avc sequence header", bytes({0x17, 0x00, 0, 0, 0}), codec::h264, true, true},
      {"avc keyframe", bytes({0x17, 0x01, 0, 0, 0}), codec::h264, true, false},
      {"avc inter frame", bytes({0x27, 0x01, 0, 0, 0}), codec::h264, false, false},
      {"sorenson keyframe", bytes({0x12, 0x00}), codec::sorenson_h263, true, false},
      {"sorenson inter", bytes({0x22, 0x00}), codec::sorenson_h263, false, false},
      {"vp6", bytes({0x14, 0x00}), codec::vp6, true, false},
      {"avc command frame", bytes({0x57, 0x01}), codec::h264, false, false},
      {"legacy hevc (id 12)", bytes({0x1C, 0x00, 0, 0, 0}), codec::hevc, true, true},
      {"enhanced hevc start", bytes({0x90, 'h', 'v', 'c', '1'}), codec::hevc, true, true},
      {"enhanced hevc coded frames", bytes({0x91, 'h', 'v', 'c', '1'}), codec::hevc, true, false},
      {"enhanced av1 inter", bytes({0xA1, 'a', 'v', '0', '1'}), codec::av1, false, false},
      {"enhanced vp9", bytes({0x93, 'v', 'p', '0', '9'}), codec::vp9, true, false},
      {"enhanced vp8 keyframe", bytes({0x91, 'v', 'p', '0', '8'}), codec::vp8, true, false},
      {"enhanced vp8 inter frame", bytes({0xA1, 'v', 'p', '0', '8'}), codec::vp8, false, false},
      {"empty body", bytes({}), codec::unknown, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto f = make_frame(track::video, 40, c.body);
    EXPECT_EQ(f.codec, c.expected);
    EXPECT_EQ(f.keyframe, c.keyframe);
    EXPECT_EQ(f.config, c.config);
    EXPECT_EQ(f.timestamp, 40u);
    EXPECT_EQ(f.payload.data(), c.body.data()) << "the payload is shared, not copied";
  }
}

TEST(frame, reads_audio_headers) {
  struct audio_case {
    const char* name;
    shared_buffer body;
    codec expected;
    bool config;
  } cases[] = {
      {"aac config", bytes({0xAF, 0x00, 0x12, 0x10}), codec::aac, true},
      {"aac raw", bytes({0xAF, 0x01, 0x21}), codec::aac, false},
      {"mp3", bytes({0x2F, 0xFF}), codec::mp3, false},
      {"speex", bytes({0xB6, 0x00}), codec::speex, false},
      {"nellymoser 8k", bytes({0x52, 0x00}), codec::nellymoser, false},
      {"nellymoser", bytes({0x6E, 0x00}), codec::nellymoser, false},
      {"g711 a-law", bytes({0x72, 0x00}), codec::g711a, false},
      {"g711 mu-law", bytes({0x82, 0x00}), codec::g711u, false},
      {"enhanced opus header", bytes({0x90, 'O', 'p', 'u', 's'}), codec::opus, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto f = make_frame(track::audio, 0, c.body);
    EXPECT_EQ(f.codec, c.expected);
    EXPECT_EQ(f.config, c.config);
    EXPECT_FALSE(f.keyframe);
  }
}

TEST(frame, data_frames_are_amf0_scripts) {
  auto f = make_frame(track::data, 0, bytes({0x02, 0x00, 0x0A}));
  EXPECT_EQ(f.codec, codec::amf0_script);
  EXPECT_EQ(codec_name(codec::h264), "h264");
  EXPECT_EQ(codec_name(codec::nellymoser), "nellymoser");
  EXPECT_EQ(codec_name(codec::vp8), "vp8");
  EXPECT_EQ(codec_name(codec::amf0_script), "amf0");
}

}  // namespace
}  // namespace junction::media
