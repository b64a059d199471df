#include "media/h264/rtp_payload.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "media/flv_reader.hpp"

namespace junction::media::h264 {
namespace {

namespace fs = std::filesystem;

// A baseline H.264 FLV made by ffmpeg for the test: 640x480 at 3 Mbit/s, so every IDR is many
// times the MTU. Made once per test process.
const std::vector<frame>& ffmpeg_stream() {
  static const std::vector<frame> frames = [] {
    fs::path file = fs::temp_directory_path() / ("junction-h264-" + std::to_string(::getpid()) + ".flv");
    std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x480:rate=25 -t 4 "
                      "-pix_fmt yuv420p -c:v libx264 -profile:v baseline -preset ultrafast -g 25 -b:v 3M -f flv " + file.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    fs::remove(file);
    flv::reader reader;
    std::vector<frame> all, video;
    reader.feed(std::as_bytes(std::span(bytes)), all);
    for (auto& f : all) {
      auto body = f.payload.bytes();
      // Sequence header and NAL units; not the end-of-sequence tag (RTP has nothing for it).
      if (f.is_video() && body.size() > 5 && static_cast<std::uint8_t>(body[1]) <= 1) video.push_back(f);
    }
    return video;
  }();
  return frames;
}

std::vector<std::vector<std::uint8_t>> packetize(const std::vector<frame>& frames, int mode, std::size_t mtu = 1200) {
  rtp_packetizer p({.payload_type = 96, .ssrc = 0x1234, .packetization_mode = mode, .mtu = mtu,
                    .first_sequence = 65000, .first_timestamp = 0xFFFF0000u});
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& f : frames) p.packetize(f, out);
  return out;
}

std::vector<frame> depacketize(const std::vector<std::vector<std::uint8_t>>& packets, rtp_depacketizer& d) {
  std::vector<frame> out;
  for (const auto& datagram : packets) {
    auto r = rtp::parse_packet(datagram);
    EXPECT_TRUE(r.ok());
    d.push(*r.packet, out);
  }
  d.flush(out);
  return out;
}

void expect_identical(const std::vector<frame>& in, const std::vector<frame>& out) {
  ASSERT_EQ(in.size(), out.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].timestamp - out[0].timestamp, in[i].timestamp - in[0].timestamp) << "frame " << i;
    EXPECT_EQ(out[i].keyframe, in[i].keyframe) << "frame " << i;
    ASSERT_TRUE(std::equal(in[i].payload.bytes().begin(), in[i].payload.bytes().end(), out[i].payload.bytes().begin(),
                           out[i].payload.bytes().end()))
        << "frame " << i << " differs";
  }
}

TEST(H264Rtp, FlvToRtpToFlvIsByteIdentical) {
  const auto& in = ffmpeg_stream();
  ASSERT_GT(in.size(), 90u);
  auto packets = packetize(in, 1);
  std::map<int, int> kinds;  // NAL or packet type -> count
  std::size_t largest = 0;
  for (const auto& p : packets) {
    ++kinds[p[12] & 0x1F];
    largest = std::max(largest, p.size());
  }
  EXPECT_GT(kinds[28], 100) << "IDRs larger than the MTU go as FU-A";
  EXPECT_GT(kinds[24], 3) << "SPS and PPS go together as STAP-A before keyframes";
  EXPECT_LE(largest, 12u + 1200);
  rtp_depacketizer d;
  auto out = depacketize(packets, d);
  expect_identical(in, out);
  EXPECT_EQ(d.counters().dropped_access_units, 0u);
  EXPECT_FALSE(d.wants_keyframe());
}

TEST(H264Rtp, PacketizationModeZeroSendsWholeNalUnits) {
  const auto& in = ffmpeg_stream();
  auto packets = packetize(in, 0);
  for (const auto& p : packets) {
    const int type = p[12] & 0x1F;
    EXPECT_TRUE(type >= 1 && type <= 23) << type;
  }
  rtp_depacketizer d;
  expect_identical(in, depacketize(packets, d));
}

TEST(H264Rtp, ALostFragmentDropsFramesUntilTheNextKeyframe) {
  const auto& in = ffmpeg_stream();
  auto packets = packetize(in, 1, 300);
  // Lose a middle fragment of some inter frame after the first keyframe.
  std::size_t victim = 0;
  for (std::size_t i = 40; i < packets.size(); ++i)
    if ((packets[i][12] & 0x1F) == 28 && (packets[i][13] & 0xC0) == 0 && (packets[i][13] & 0x1F) == 1) {
      victim = i;
      break;
    }
  ASSERT_NE(victim, 0u);
  packets.erase(packets.begin() + static_cast<std::ptrdiff_t>(victim));
  rtp_depacketizer d;
  std::vector<frame> out;
  bool asked = false;
  for (const auto& datagram : packets) {
    d.push(*rtp::parse_packet(datagram).packet, out);
    asked = asked || d.wants_keyframe();
  }
  d.flush(out);
  EXPECT_TRUE(asked);
  EXPECT_GT(d.counters().dropped_access_units, 0u);
  EXPECT_LT(out.size(), in.size());
  // Decoding restarts at a keyframe: the first frame after the gap is one.
  std::size_t gap = 1;
  while (gap < out.size() && out[gap].timestamp - out[gap - 1].timestamp <= 40) ++gap;
  ASSERT_LT(gap, out.size());
  EXPECT_TRUE(out[gap].keyframe);
}

TEST(H264Rtp, ParameterSetsFromSdp) {
  const auto& in = ffmpeg_stream();
  auto sets = parse_avc_config(std::span(reinterpret_cast<const std::uint8_t*>(in[0].payload.data()) + 5,
                                         in[0].payload.size() - 5));
  ASSERT_TRUE(sets);
  std::string sprop = make_sprop(*sets);
  auto back = parse_sprop(sprop);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sps, sets->sps);
  EXPECT_EQ(back->pps, sets->pps);
  EXPECT_EQ(profile_level_id(sets->sps[0]).substr(0, 2), "42");  // baseline
  EXPECT_FALSE(parse_sprop("not base64!"));
  EXPECT_FALSE(parse_sprop(""));
  EXPECT_FALSE(parse_avc_config(std::vector<std::uint8_t>{1, 0x42, 0, 0x1f, 0xff, 0xe1, 0, 50}));
}

TEST(H264Rtp, MalformedPayloadsAreCountedNotFatal) {
  rtp_depacketizer d;
  std::vector<frame> out;
  std::vector<std::vector<std::uint8_t>> bad{{24, 0, 9, 1}, {28}, {28, 0x40, 1}, {25, 1, 2}, {}};
  std::uint16_t seq = 1;
  for (auto& payload : bad) {
    rtp::packet p;
    p.header.sequence = seq++;
    p.header.timestamp = 90000u * seq;
    p.header.marker = true;
    p.payload = payload;
    d.push(p, out);
  }
  EXPECT_TRUE(out.empty());
  EXPECT_GE(d.counters().malformed, 3u);
}

}  // namespace
}  // namespace junction::media::h264
