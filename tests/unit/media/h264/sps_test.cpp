#include "media/h264/sps.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "media/flv_reader.hpp"

namespace junction::media::h264 {
namespace {

namespace fs = std::filesystem;

// The sequence header of one frame of ffmpeg's test pattern at `size`, encoded with `args`.
frame sequence_header_of(const std::string& size, const std::string& args) {
  fs::path file = fs::temp_directory_path() / ("junction-sps-" + std::to_string(::getpid()) + ".flv");
  std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=size=" + size +
                    ":rate=25 -frames:v 1 -c:v libx264 -preset ultrafast " + args + " -f flv " + file.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(file, std::ios::binary);
  std::vector<char> raw{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  fs::remove(file);
  flv::reader reader;
  std::vector<frame> frames;
  reader.feed(std::as_bytes(std::span(raw)), frames);
  for (const auto& f : frames)
    if (f.is_video() && f.config) return f;
  ADD_FAILURE() << "no sequence header";
  return {};
}

// Its first SPS.
nal_unit sps_of(const std::string& size, const std::string& args) {
  auto f = sequence_header_of(size, args);
  auto b = f.payload.bytes();
  if (b.size() <= 5) return {};
  auto sets = parse_avc_config({reinterpret_cast<const std::uint8_t*>(b.data()) + 5, b.size() - 5});
  return sets && !sets->sps.empty() ? sets->sps.front() : nal_unit{};
}

TEST(SpsPictureSize, ReadsWhatEncodersWrite) {
  struct example {
    std::string size, args;
    picture_size expected;
  };
  const example examples[] = {
      {"640x480", "-profile:v baseline -pix_fmt yuv420p", {640, 480}},
      {"320x240", "-profile:v baseline -pix_fmt yuv420p", {320, 240}},
      // Cropping (1080 is not a multiple of 16), a high profile's chroma format and bit depths.
      {"1920x1080", "-profile:v high -pix_fmt yuv420p", {1920, 1080}},
      {"1278x718", "-profile:v high -pix_fmt yuv420p", {1278, 718}},
      // 4:4:4 (chroma format 3: cropping in single pixels), field coding (frame_mbs_only 0).
      {"350x200", "-profile:v high444 -pix_fmt yuv444p", {350, 200}},
      {"640x360", "-profile:v high -pix_fmt yuv420p -flags +ildct -x264opts interlaced=1", {640, 360}},
  };
  for (const auto& e : examples) {
    SCOPED_TRACE(e.size + " " + e.args);
    auto got = sps_picture_size(sps_of(e.size, e.args));
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, e.expected);
  }
}

TEST(SpsPictureSize, ReadsASequenceHeaderFrame) {
  const auto header = sequence_header_of("1920x1080", "-profile:v high -pix_fmt yuv420p");
  EXPECT_EQ(sequence_header_picture_size(header), (picture_size{1920, 1080}));
  // Not a sequence header: nothing.
  frame picture = header;
  picture.config = false;
  EXPECT_FALSE(sequence_header_picture_size(picture));
  EXPECT_FALSE(sequence_header_picture_size(frame{}));
}

TEST(SpsPictureSize, RefusesWhatIsNotAWholeSps) {
  const nal_unit sps = sps_of("640x480", "-profile:v baseline -pix_fmt yuv420p");
  EXPECT_FALSE(sps_picture_size({}));
  EXPECT_FALSE(sps_picture_size(bytes(sps).first(3)));
  nal_unit pps = sps;
  pps[0] = 0x68;  // a PPS header
  EXPECT_FALSE(sps_picture_size(pps));
  // Cut anywhere before the cropping fields: nothing, never a wrong size.
  for (std::size_t n = 4; n + 1 < sps.size(); ++n) {
    auto got = sps_picture_size(bytes(sps).first(n));
    if (got) EXPECT_EQ(*got, (picture_size{640, 480})) << n;
  }
  // Exp-Golomb codes longer than 32 bits.
  const nal_unit zeros = {0x67, 66, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(sps_picture_size(zeros));
}

}  // namespace
}  // namespace junction::media::h264
