#include "junction-load/report.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <cmath>

namespace junction::load {

namespace {

// Three decimals are more than any of these numbers means.
double rounded(double v) { return std::round(v * 1000) / 1000; }

boost::json::object json_of(const percentiles& p) {
  return {{"p50", rounded(p.p50)}, {"p99", rounded(p.p99)}, {"max", rounded(p.max)}};
}

}  // namespace

std::string to_json(const load_report& r) {
  boost::json::object o;
  o["url"] = r.url;
  o["duration_s"] = rounded(r.duration_s);
  o["publishers"] = r.publishers;
  o["players_per_stream"] = r.players_per_stream;
  o["players_started"] = r.players_started;
  o["players_completed"] = r.players_completed;
  o["connect_failures"] = r.connect_failures;
  o["handshake_failures"] = r.handshake_failures;
  o["publish_failures"] = r.publish_failures;
  o["play_failures"] = r.play_failures;
  o["frames_sent"] = r.frames_sent;
  o["bytes_sent"] = r.bytes_sent;
  o["frames_received_total"] = r.frames_received_total;
  o["bytes_received_total"] = r.bytes_received_total;
  o["frames_received_per_player"] = boost::json::object{{"min", r.frames_received_per_player.min},
                                                        {"avg", rounded(r.frames_received_per_player.avg)},
                                                        {"max", r.frames_received_per_player.max}};
  o["missing_frames"] = r.missing_frames;
  o["out_of_order_frames"] = r.out_of_order_frames;
  o["players_with_missing_frames"] = r.players_with_missing_frames;
  o["first_keyframe_ms"] = json_of(r.first_keyframe_ms);
  o["latency_ms"] = json_of(r.latency_ms);
  o["delivered_mbps"] = rounded(r.delivered_mbps);
  o["tool_cpu_seconds"] = rounded(r.tool_cpu_seconds);
  o["tool_cpu_percent"] = rounded(r.tool_cpu_percent);
  o["players_disconnected"] = r.players_disconnected;
  o["misrouted_frames"] = r.misrouted_frames;
  o["unidentified_frames"] = r.unidentified_frames;
  o["shards"] = r.shards;
  if (r.frames_accounted) {
    o["short_frames"] = r.short_frames;
    o["players_short"] = r.players_short;
  } else {  // someone else's stream: where it ends is unknown, only gaps are counted
    o["short_frames"] = nullptr;
    o["players_short"] = nullptr;
  }
  o["joined_at_video_frame"] = boost::json::object{{"min", r.joined_at_video_frame.min},
                                                   {"avg", rounded(r.joined_at_video_frame.avg)},
                                                   {"max", r.joined_at_video_frame.max}};
  return boost::json::serialize(o) + "\n";
}

std::string to_table(const load_report& r) {
  std::string out;
  const auto row = [&](std::string_view name, const std::string& value) {
    out += fmt::format("{:<30} {}\n", name, value);
  };
  const auto pct = [](const percentiles& p) {
    return fmt::format("p50 {:.2f}  p99 {:.2f}  max {:.2f}", p.p50, p.p99, p.max);
  };
  row("url", r.url);
  row("duration_s", fmt::format("{:.2f}", r.duration_s));
  row("publishers", std::to_string(r.publishers));
  row("players_per_stream", std::to_string(r.players_per_stream));
  row("players_started", std::to_string(r.players_started));
  row("players_completed", std::to_string(r.players_completed));
  row("players_disconnected", std::to_string(r.players_disconnected));
  row("connect_failures", std::to_string(r.connect_failures));
  row("handshake_failures", std::to_string(r.handshake_failures));
  row("publish_failures", std::to_string(r.publish_failures));
  row("play_failures", std::to_string(r.play_failures));
  row("frames_sent", std::to_string(r.frames_sent));
  row("bytes_sent", std::to_string(r.bytes_sent));
  row("frames_received_total", std::to_string(r.frames_received_total));
  row("bytes_received_total", std::to_string(r.bytes_received_total));
  row("frames_received_per_player",
      fmt::format("min {}  avg {:.1f}  max {}", r.frames_received_per_player.min,
                  r.frames_received_per_player.avg, r.frames_received_per_player.max));
  row("missing_frames", std::to_string(r.missing_frames));
  row("out_of_order_frames", std::to_string(r.out_of_order_frames));
  row("players_with_missing_frames", std::to_string(r.players_with_missing_frames));
  row("short_frames", r.frames_accounted ? std::to_string(r.short_frames) : "-");
  row("players_short", r.frames_accounted ? std::to_string(r.players_short) : "-");
  row("joined_at_video_frame", fmt::format("min {}  avg {:.1f}  max {}", r.joined_at_video_frame.min,
                                           r.joined_at_video_frame.avg, r.joined_at_video_frame.max));
  row("misrouted_frames", std::to_string(r.misrouted_frames));
  row("unidentified_frames", std::to_string(r.unidentified_frames));
  row("first_keyframe_ms", pct(r.first_keyframe_ms));
  row("latency_ms", pct(r.latency_ms));
  row("delivered_mbps", fmt::format("{:.2f}", r.delivered_mbps));
  row("tool_cpu_seconds", fmt::format("{:.2f}", r.tool_cpu_seconds));
  row("tool_cpu_percent", fmt::format("{:.1f} ({} shards)", r.tool_cpu_percent, r.shards));
  return out;
}

}  // namespace junction::load
