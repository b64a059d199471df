#include "junction-load/flv_file_source.hpp"

#include "media/flv.hpp"

#include <gtest/gtest.h>

#include <map>

namespace junction::load {
namespace {

using namespace std::literals;

shared_buffer bytes(std::initializer_list<unsigned> b) {
  std::vector<std::byte> v;
  for (auto x : b) v.push_back(std::byte(x));
  return shared_buffer::copy_of(v);
}

// One second of a file: metadata and both configurations, then video every 100 ms (keyframe
// first) and audio every 50 ms, starting at 1000 ms as files cut from a live stream do.
std::vector<std::byte> sample_file() {
  std::vector<media::frame> frames{
      media::make_frame(media::track::data, 0, bytes({0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 0x05})),
      media::make_frame(media::track::video, 0, bytes({0x17, 0x00, 0, 0, 0, 1})),
      media::make_frame(media::track::audio, 0, bytes({0xAF, 0x00, 0x12, 0x10})),
  };
  for (std::uint32_t t = 0; t < 1000; t += 50) {
    if (t % 100 == 0) frames.push_back(media::make_frame(media::track::video, 1000 + t, bytes({t == 0 ? 0x17u : 0x27u, 1, 0, 0, 0})));
    frames.push_back(media::make_frame(media::track::audio, 1000 + t, bytes({0xAF, 0x01, 0x21})));
  }
  auto h = media::flv::file_header(true, true);
  std::vector<std::byte> file(h.begin(), h.end());
  for (const auto& f : frames) {
    auto t = media::flv::tag(f);
    file.insert(file.end(), t.bytes().begin(), t.bytes().end());
  }
  return file;
}

TEST(load_flv_file_source, parses_head_and_body) {
  std::string why;
  auto file = parse_flv_file(sample_file(), &why);
  ASSERT_TRUE(file) << why;
  ASSERT_EQ(file->header.size(), 3u);
  EXPECT_TRUE(file->header[0].payload.text().starts_with("\x02\x00\x0D@setDataFrame"sv)) << "wrapped for publishing";
  EXPECT_TRUE(file->header[1].config);
  EXPECT_EQ(file->body.size(), 30u);
  EXPECT_EQ(file->video_frames, 10u);
  EXPECT_EQ(file->audio_frames, 20u);
  EXPECT_EQ(file->first_timestamp, 1000u);
  EXPECT_EQ(file->loop_ms, 950u + 100u) << "the span, then one video interval";
}

TEST(load_flv_file_source, refuses_files_without_media) {
  std::string why;
  EXPECT_FALSE(parse_flv_file(std::as_bytes(std::span{"GIF89a", 6}), &why));
  EXPECT_FALSE(why.empty());
  auto h = media::flv::file_header(true, true);
  EXPECT_FALSE(parse_flv_file(h, &why));
  EXPECT_EQ(why, "no audio or video frames");
  EXPECT_FALSE(load_flv_file("/nonexistent/file.flv", &why));
}

TEST(load_flv_file_source, loops_with_timestamps_that_keep_increasing) {
  auto file = std::make_shared<const flv_file>(*parse_flv_file(sample_file(), nullptr));
  frame_index index;
  flv_file_source source{file, &index};
  EXPECT_EQ(source.header_frames().size(), 3u);
  std::vector<media::frame> out;
  const auto next = source.take_due(0ns, 1, out);
  ASSERT_EQ(out.size(), 2u) << "video and audio at the first timestamp";
  EXPECT_EQ(out[0].timestamp, 0u) << "rebased to start at 0";
  EXPECT_EQ(next, 50ms);
  out.clear();
  source.take_due(3s, 2, out);  // about three loops
  std::map<media::track, std::uint32_t> last;
  std::map<media::track, std::uint32_t> count{{media::track::audio, 1}, {media::track::video, 1}};
  for (const auto& f : out) {
    if (last.contains(f.track)) {
      EXPECT_GT(f.timestamp, last[f.track]);
    }
    last[f.track] = f.timestamp;
    ++count[f.track];
    EXPECT_FALSE(f.config) << "configuration goes out once, not per loop";
  }
  EXPECT_EQ(last[media::track::video], 2 * 1050u + 900u);
  // Every frame sent is in the index under its per-track number.
  for (auto t : {media::track::audio, media::track::video}) {
    auto e = index.find(t, last[t], std::nullopt);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->index, count[t] - 1);
    EXPECT_EQ(e->sent_ns, 2);
  }
  auto first = index.find(media::track::video, 0, std::nullopt);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->index, 0u);
  EXPECT_EQ(first->sent_ns, 1);
}

}  // namespace
}  // namespace junction::load
