#include "junction-load/report.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace junction::load {
namespace {

// The key names bench scripts read: changing one breaks them.
const char* const required_keys[] = {
    "url", "duration_s", "publishers", "players_per_stream", "players_started", "players_completed",
    "connect_failures", "handshake_failures", "publish_failures", "play_failures", "frames_sent",
    "bytes_sent", "frames_received_total", "bytes_received_total", "frames_received_per_player",
    "missing_frames", "out_of_order_frames", "players_with_missing_frames", "first_keyframe_ms",
    "latency_ms", "delivered_mbps", "tool_cpu_seconds", "tool_cpu_percent"};

load_report sample() {
  load_report r;
  r.url = "rtmp://127.0.0.1/live/test";
  r.duration_s = 10.0004;
  r.publishers = 1;
  r.players_per_stream = 200;
  r.players_started = 200;
  r.players_completed = 199;
  r.frames_sent = 680;
  r.frames_received_total = 135000;
  r.frames_received_per_player = {600, 678.25, 680};
  r.missing_frames = 3;
  r.first_keyframe_ms = {1.5, 9.25, 12};
  r.latency_ms = {0.4, 2.5, 30.1234};
  r.delivered_mbps = 401.5;
  return r;
}

TEST(load_report, json_has_every_key_with_its_value) {
  auto v = boost::json::parse(to_json(sample()));
  const auto& o = v.as_object();
  for (const char* key : required_keys) EXPECT_TRUE(o.contains(key)) << key;
  EXPECT_EQ(o.at("url").as_string(), "rtmp://127.0.0.1/live/test");
  EXPECT_EQ(o.at("duration_s").to_number<double>(), 10.0);
  EXPECT_EQ(o.at("players_completed").to_number<int>(), 199);
  EXPECT_EQ(o.at("missing_frames").to_number<int>(), 3);
  const auto& per_player = o.at("frames_received_per_player").as_object();
  EXPECT_EQ(per_player.at("min").to_number<int>(), 600);
  EXPECT_EQ(per_player.at("avg").to_number<double>(), 678.25);
  EXPECT_EQ(per_player.at("max").to_number<int>(), 680);
  for (const char* key : {"first_keyframe_ms", "latency_ms"}) {
    const auto& p = o.at(key).as_object();
    for (const char* q : {"p50", "p99", "max"}) EXPECT_TRUE(p.contains(q)) << key << "." << q;
  }
  EXPECT_EQ(o.at("latency_ms").as_object().at("max").to_number<double>(), 30.123);
}

TEST(load_report, the_table_shows_the_same_names) {
  const auto table = to_table(sample());
  for (const char* key : required_keys) EXPECT_NE(table.find(key), std::string::npos) << key;
  EXPECT_NE(table.find("p50 0.40  p99 2.50  max 30.12"), std::string::npos) << table;
}

}  // namespace
}  // namespace junction::load
