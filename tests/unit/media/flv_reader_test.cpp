#include "media/flv_reader.hpp"

#include "media/flv.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace junction::media::flv {
namespace {

shared_buffer body_of(std::initializer_list<unsigned> bytes) {
  std::vector<std::byte> b;
  for (auto v : bytes) b.push_back(std::byte(v));
  return shared_buffer::copy_of(b);
}

// A small file: header, AVC sequence header, a keyframe, AAC config, an audio frame, metadata.
std::vector<frame> sample_frames() {
  return {
      make_frame(track::data, 0, body_of({0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'})),
      make_frame(track::video, 0, body_of({0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xC0, 0x1E})),
      make_frame(track::audio, 0, body_of({0xAF, 0x00, 0x12, 0x10})),
      make_frame(track::video, 40, body_of({0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65})),
      make_frame(track::audio, 23, body_of({0xAF, 0x01, 0x21, 0x22})),
      make_frame(track::video, 0x01ABCDEF, body_of({0x27, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x41})),
  };
}

std::vector<std::byte> file_of(const std::vector<frame>& frames) {
  auto h = file_header(true, true);
  std::vector<std::byte> out(h.begin(), h.end());
  for (const auto& f : frames) {
    auto t = tag(f);
    out.insert(out.end(), t.bytes().begin(), t.bytes().end());
  }
  return out;
}

void expect_same(const std::vector<frame>& got, const std::vector<frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].track, want[i].track) << i;
    EXPECT_EQ(got[i].timestamp, want[i].timestamp) << i;
    EXPECT_EQ(got[i].codec, want[i].codec) << i;
    EXPECT_EQ(got[i].keyframe, want[i].keyframe) << i;
    EXPECT_EQ(got[i].config, want[i].config) << i;
    EXPECT_TRUE(std::ranges::equal(got[i].payload.bytes(), want[i].payload.bytes())) << i;
  }
}

TEST(flv_reader, reads_what_the_tag_writer_writes) {
  const auto frames = sample_frames();
  const auto file = file_of(frames);
  reader r;
  std::vector<frame> out;
  auto result = r.feed(file, out);
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.consumed, file.size());
  EXPECT_TRUE(r.header_done());
  EXPECT_TRUE(r.has_audio());
  EXPECT_TRUE(r.has_video());
  EXPECT_TRUE(r.at_tag_boundary());
  EXPECT_EQ(r.tags_read(), frames.size());
  EXPECT_EQ(r.previous_size_mismatches(), 0u);
  expect_same(out, frames);
  EXPECT_TRUE(out[1].config);
  EXPECT_TRUE(out[3].keyframe);
  EXPECT_EQ(out[5].timestamp, 0x01ABCDEFu) << "the extension byte holds bits 24-31";
}

TEST(flv_reader, split_at_every_byte_gives_the_same_frames) {
  const auto frames = sample_frames();
  const auto file = file_of(frames);
  for (std::size_t split = 0; split <= file.size(); ++split) {
    reader r;
    std::vector<frame> out;
    auto a = r.feed(std::span{file}.first(split), out);
    auto b = r.feed(std::span{file}.subspan(split), out);
    ASSERT_FALSE(a.error || b.error) << split;
    EXPECT_EQ(a.consumed + b.consumed, file.size()) << split;
    expect_same(out, frames);
  }
  reader bytewise;
  std::vector<frame> out;
  for (std::size_t i = 0; i < file.size(); ++i) {
    auto one = bytewise.feed(std::span{file}.subspan(i, 1), out);
    ASSERT_FALSE(one.error) << i;
    ASSERT_EQ(one.consumed, 1u) << i;
  }
  expect_same(out, frames);
}

TEST(flv_reader, header_errors) {
  const struct {
    std::vector<unsigned> bytes;
    reader_errc error;
  } cases[] = {
      {{'F', 'L', 'X', 1, 5, 0, 0, 0, 9}, reader_errc::not_flv},
      {{'G', 'I', 'F', '8', '9', 'a', 0, 0, 0}, reader_errc::not_flv},
      {{'F', 'L', 'V', 2, 5, 0, 0, 0, 9}, reader_errc::bad_version},
      {{'F', 'L', 'V', 1, 5, 0, 0, 0, 8}, reader_errc::bad_header_size},
      {{'F', 'L', 'V', 1, 5, 0xFF, 0, 0, 0}, reader_errc::bad_header_size},
  };
  for (const auto& c : cases) {
    std::vector<std::byte> in;
    for (auto v : c.bytes) in.push_back(std::byte(v));
    reader r;
    std::vector<frame> out;
    auto result = r.feed(in, out);
    EXPECT_EQ(result.error, c.error) << make_error_code(c.error).message();
    EXPECT_FALSE(result.error.message().empty());
    EXPECT_EQ(r.feed(in, out).error, c.error) << "sticky";
  }
}

TEST(flv_reader, a_longer_header_is_skipped) {
  const unsigned char head[] = {'F', 'L', 'V', 1, 1, 0, 0, 0, 12, 0xEE, 0xEE, 0xEE, 0, 0, 0, 0};
  std::vector<std::byte> file(reinterpret_cast<const std::byte*>(head),
                              reinterpret_cast<const std::byte*>(head) + sizeof head);
  auto t = tag(make_frame(track::video, 7, body_of({0x27, 0x01})));
  file.insert(file.end(), t.bytes().begin(), t.bytes().end());
  reader r;
  std::vector<frame> out;
  ASSERT_FALSE(r.feed(file, out).error);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].timestamp, 7u);
  EXPECT_FALSE(r.has_audio());
}

TEST(flv_reader, a_tag_above_the_limit_is_an_error) {
  auto file = file_of({make_frame(track::video, 0, shared_buffer::copy_of(std::vector<std::byte>(2000)))});
  reader r{reader_limits{.max_tag_size = 1999}};
  std::vector<frame> out;
  auto result = r.feed(file, out);
  EXPECT_EQ(result.error, reader_errc::tag_too_large);
  EXPECT_EQ(result.consumed, 13u + 11u) << "stops right after the tag header";
  reader exact{reader_limits{.max_tag_size = 2000}};
  EXPECT_FALSE(exact.feed(file, out).error);
}

TEST(flv_reader, unknown_and_encrypted_tags_are_skipped_and_counted) {
  auto file = file_of(sample_frames());
  auto keep = file.size();
  // An unknown tag type 15, then an encrypted (Filter bit) video tag, then a normal one.
  const unsigned char odd[] = {15, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB, 0, 0, 0, 13,
                               0x29, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x17, 0, 0, 0, 12};
  for (auto b : odd) file.push_back(std::byte{b});
  auto last = tag(make_frame(track::audio, 99, body_of({0xAF, 0x01})));
  file.insert(file.end(), last.bytes().begin(), last.bytes().end());
  reader r;
  std::vector<frame> out;
  ASSERT_FALSE(r.feed(file, out).error);
  EXPECT_EQ(out.size(), sample_frames().size() + 1);
  EXPECT_EQ(out.back().timestamp, 99u);
  EXPECT_EQ(r.tags_skipped(), 2u);
  EXPECT_GT(keep, 0u);
}

TEST(flv_reader, wrong_previous_tag_sizes_are_counted_not_fatal) {
  auto file = file_of(sample_frames());
  file.back() = std::byte{0x55};  // the last PreviousTagSize
  reader r;
  std::vector<frame> out;
  ASSERT_FALSE(r.feed(file, out).error);
  EXPECT_EQ(out.size(), sample_frames().size());
  EXPECT_EQ(r.previous_size_mismatches(), 1u);
}

TEST(flv_reader, empty_bodies_and_truncated_files) {
  auto file = file_of({make_frame(track::video, 5, {}), make_frame(track::audio, 6, body_of({0xAF, 1, 2}))});
  reader r;
  std::vector<frame> out;
  ASSERT_FALSE(r.feed(std::span{file}.first(file.size() - 6), out).error);
  ASSERT_EQ(out.size(), 1u) << "the empty tag is a frame; the cut one is not yet";
  EXPECT_EQ(out[0].payload.size(), 0u);
  EXPECT_FALSE(r.at_tag_boundary());
}

TEST(flv_reader, reads_an_ffmpeg_file) {
  // FFmpeg 5.1 (libx264 + aac), 1 s of 64x48 at 10 fps: the fuzz target's main seed.
  std::ifstream in(JUNCTION_SOURCE_DIR "/tests/fuzz/corpus/flv_reader/ffmpeg_h264_aac.flv", std::ios::binary);
  ASSERT_TRUE(in) << "the seed file is missing";
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  reader r;
  std::vector<frame> out;
  auto result = r.feed(std::as_bytes(std::span{bytes}), out);
  ASSERT_FALSE(result.error);
  EXPECT_TRUE(r.at_tag_boundary());
  EXPECT_EQ(r.previous_size_mismatches(), 0u);
  ASSERT_GT(out.size(), 3u);
  EXPECT_EQ(out[0].track, track::data);
  const auto first_video = std::ranges::find_if(out, [](const frame& f) { return f.is_video(); });
  ASSERT_NE(first_video, out.end());
  EXPECT_TRUE(first_video->config);
  EXPECT_EQ(first_video->codec, codec::h264);
}

}  // namespace
}  // namespace junction::media::flv
