#include "media/flv_file_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "media/flv_reader.hpp"
#include "media/amf/amf0.hpp"

namespace junction::media::flv {
namespace {

namespace fs = std::filesystem;
namespace amf = junction::media::amf;

std::vector<char> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) ::pclose(p);
  return out;
}

TEST(FlvFileWriter, ARecordingPlayersCanSeekIn) {
  const fs::path dir = fs::temp_directory_path() / ("junction-flvw-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path source = dir / "source.flv", recorded = dir / "recorded.flv";
  std::string make = "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25 "
                     "-f lavfi -i sine=frequency=1000 -t 6 -pix_fmt yuv420p -c:v libx264 -preset ultrafast -g 50 "
                     "-c:a aac -f flv " + source.string();
  ASSERT_EQ(std::system(make.c_str()), 0);
  auto bytes = read_file(source);
  reader r;
  std::vector<frame> frames;
  r.feed(std::as_bytes(std::span(bytes)), frames);
  ASSERT_GT(frames.size(), 300u);

  // A recording that starts mid-stream: timestamps are rebased to 0.
  for (auto& f : frames) f.timestamp += 5000;
  file_writer w(true, true);
  std::ofstream out(recorded, std::ios::binary);
  auto head = w.begin();
  out.write(reinterpret_cast<const char*>(head.data()), static_cast<std::streamsize>(head.size()));
  for (const auto& f : frames) {
    auto tag = w.write(f);
    out.write(reinterpret_cast<const char*>(tag.data()), static_cast<std::streamsize>(tag.size()));
  }
  auto patch = w.finish();
  out.seekp(static_cast<std::streamoff>(patch.offset));
  out.write(reinterpret_cast<const char*>(patch.bytes.data()), static_cast<std::streamsize>(patch.bytes.size()));
  out.close();
  EXPECT_EQ(fs::file_size(recorded), w.size());
  std::size_t source_keyframes = 0;
  for (const auto& f : frames) source_keyframes += f.is_video() && f.keyframe && !f.config;
  EXPECT_GE(source_keyframes, 3u);  // -g 50 at 25 fps for 6 s, and any x264 adds
  EXPECT_EQ(w.keyframes(), source_keyframes);

  // Our reader gets every audio and video frame back, with the same bodies.
  auto written = read_file(recorded);
  reader back;
  std::vector<frame> again;
  back.feed(std::as_bytes(std::span(written)), again);
  ASSERT_FALSE(again.empty());
  ASSERT_EQ(again.front().track, track::data);  // our onMetaData first
  std::vector<media::amf::value> meta;
  ASSERT_FALSE(media::amf::decode_amf0(again.front().payload.bytes(), meta));
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[0].string_or(), "onMetaData");
  const media::amf::value* duration = meta[1].find("duration");
  ASSERT_TRUE(duration);
  EXPECT_NEAR(duration->number, 6.0, 0.1);
  EXPECT_EQ(meta[1].find("filesize")->number, static_cast<double>(w.size()));
  EXPECT_EQ(meta[1].find("width")->number, 320);  // the source's own metadata kept
  const media::amf::value* index = meta[1].find("keyframes");
  ASSERT_TRUE(index);
  const auto& positions = index->find("filepositions")->items;
  ASSERT_EQ(positions.size(), source_keyframes);
  for (const auto& p : positions) {
    // Each position is the start of a video keyframe tag.
    auto at = static_cast<std::size_t>(p.number);
    ASSERT_LT(at + 12, written.size());
    EXPECT_EQ(written[at], 9);
    EXPECT_EQ(static_cast<std::uint8_t>(written[at + 11]) >> 4, 1);
  }
  std::size_t media_frames = 0;
  for (const auto& f : frames) media_frames += f.track != track::data;
  EXPECT_EQ(again.size() - 1, media_frames);

  // ffprobe reads the duration from it, and ffmpeg decodes it all without an error.
  EXPECT_NEAR(std::stod(run("ffprobe -v error -show_entries format=duration -of csv=p=0 " + recorded.string())), 6.0, 0.2);
  EXPECT_EQ(run("ffmpeg -nostdin -v error -i " + recorded.string() + " -f null - 2>&1"), "");
  fs::remove_all(dir);
}

TEST(FlvFileWriter, AnIndexTooBigForItsRoomIsThinned) {
  file_writer w(false, true, {.metadata_reserve = 1024});
  auto head = w.begin();
  EXPECT_EQ(head.size(), 13u + 1024u);
  std::vector<std::byte> body{std::byte{0x17}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};
  for (std::uint32_t i = 0; i < 500; ++i)
    w.write(make_frame(track::video, i * 1000, shared_buffer::copy_of(body)));
  auto patch = w.finish();
  EXPECT_EQ(patch.offset, 13u);
  EXPECT_EQ(patch.bytes.size(), 1024u);  // exactly the placeholder
  std::vector<media::amf::value> meta;
  ASSERT_FALSE(media::amf::decode_amf0(std::span(patch.bytes).subspan(11, patch.bytes.size() - 15), meta));
  const auto& times = meta[1].find("keyframes")->find("times")->items;
  EXPECT_GT(times.size(), 10u);
  EXPECT_LT(times.size(), 500u);
  EXPECT_EQ(times[0].number, 0);
}

}  // namespace
}  // namespace junction::media::flv
