#pragma once
// What one junction-load run does, as the command line set it (main.cpp fills it with CLI11;
// the conversions and checks are here so they can be tested without a command line).
#include "junction-load/rtmp_url.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::load {

struct load_options {
  rtmp_url url;
  unsigned publishers = 1;  // 0: play an existing stream
  unsigned players = 0;     // per stream
  double ramp = 200;        // players started per second
  std::chrono::milliseconds duration{10'000};  // from the publishers' start to their stop
  std::chrono::milliseconds warmup{1'000};     // from the publishers' start to the first player
  std::string source = "synthetic";            // or the path of an .flv file
  std::uint64_t bitrate = 2'000'000;           // synthetic video, bits per second
  double fps = 25;
  unsigned gop = 50;                           // frames per keyframe
  std::uint64_t audio_bitrate = 128'000;       // 0: no audio
  unsigned shards = 0;                         // 0: one per CPU
  bool json = false;
  bool progress = false;
  bool allow_remote = false;
  // Players play over WHEP from this HTTP base ("http://127.0.0.1:8080"), not over RTMP: each
  // POSTs an offer to <base>/<app>/<stream>/whep and takes H.264 over WebRTC.
  std::string whep_base;
  // Players watch a Janus streaming mountpoint (`janus_mountpoint`) through Janus's HTTP API at
  // this URL ("http://127.0.0.1:8088/janus"), for benchmarks beside Junction's WHEP.
  std::string janus_base;
  std::int64_t janus_mountpoint = 1;
  // Publishers send their video as RTP (H.264, payload type 96) to this HOST:PORT instead of
  // publishing over RTMP: what a Janus mountpoint takes.
  std::string rtp_to;

  // Not on the command line: fixed parts of how a run behaves.
  // Players keep reading this long after the publishers stop, so frames in flight arrive.
  std::chrono::milliseconds drain{500};
  // Each setup step (TCP connect, handshake, each command's answer) must finish within this.
  std::chrono::milliseconds step_timeout{10'000};

  bool synthetic() const noexcept { return source == "synthetic"; }
  unsigned streams() const noexcept { return publishers == 0 ? 1 : publishers; }
};

// "2M", "500k", "128k", "1.5M", "2000000", optionally followed by "bps" or "b/s"; k = 1000.
std::optional<std::uint64_t> parse_bitrate(std::string_view text);
std::string format_bitrate(std::uint64_t bits_per_second);  // "2M", "500k", "1234"

// "30s", "500ms", "2m" (core/duration.hpp's forms), or a bare number of seconds ("30").
std::optional<std::chrono::milliseconds> parse_run_duration(std::string_view text);

// Empty when the options make sense together; else what is wrong, for a usage error.
std::string check(const load_options& o);

// 127.0.0.0/8, ::1 and IPv4-mapped 127.x: the only addresses a run may reach without
// --allow-remote, so that a load test cannot hit a production server by a typo.
bool is_loopback(const boost::asio::ip::address& a) noexcept;

}  // namespace junction::load
