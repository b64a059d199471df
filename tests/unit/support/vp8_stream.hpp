#pragma once
// VP8 frames made by ffmpeg's libvpx for tests: 2 s of the test pattern at 25 fps, read from an
// IVF file (a 32-byte file header, then per frame a 12-byte header: size, little-endian, and a
// timestamp) into the frame model's 'vp08' bodies, 40 ms apart.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/vp8/rtp_payload.hpp"

namespace junction::test {

inline std::vector<media::frame> vp8_stream(const std::string& size = "320x240", const std::string& extra = "") {
  namespace fs = std::filesystem;
  fs::path file = fs::temp_directory_path() / ("junction-vp8-" + std::to_string(::getpid()) + "-" + size + ".ivf");
  std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=size=" + size +
                    ":rate=25 -t 2 -pix_fmt yuv420p -c:v libvpx -deadline realtime -g 25 -b:v 1M " + extra +
                    " -f ivf " + file.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(file, std::ios::binary);
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  fs::remove(file);
  std::vector<media::frame> frames;
  std::size_t at = 32;
  while (at + 12 <= bytes.size()) {
    const std::size_t n = bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | std::size_t{bytes[at + 3]} << 24;
    at += 12;
    if (at + n > bytes.size()) break;
    std::span<const std::uint8_t> data(bytes.data() + at, n);
    frames.push_back(media::make_frame(media::track::video, static_cast<std::uint32_t>(frames.size() * 40),
                                       media::vp8::flv_body(media::vp8::is_keyframe(data), data)));
    at += n;
  }
  return frames;
}

}  // namespace junction::test
