#include "media/stream_hub.hpp"

#include "core/runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include <atomic>

#include <chrono>
#include <future>
#include <thread>

namespace junction::media {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs f on shard i and waits for its result.
template <class F>
auto on_shard(runtime& rt, unsigned i, F f) {
  std::promise<std::invoke_result_t<F&>> p;
  rt.post(i, [&] {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      f();
      p.set_value();
    } else {
      p.set_value(f());
    }
  });
  return p.get_future().get();
}

// Records what the hub delivers, on the sink's shard.
struct recording_sink : sink {
  std::vector<std::string> events;  // "start", "stop", "v<ts>k", "v<ts>", "a<ts>", "d"
  void on_start() override { events.push_back("start"); }
  void on_stop() override { events.push_back("stop"); }
  void on_frame(const shard_frame_ptr& f) override {
    const auto& fr = f->frame();
    if (fr.track == track::data) events.push_back("d");
    else events.push_back((fr.is_video() ? "v" : "a") + std::to_string(fr.timestamp) +
                          (fr.keyframe ? "k" : "") + (fr.config ? "c" : ""));
  }
};

frame video(std::uint32_t ts, bool key, bool config = false) {
  std::vector<std::byte> body{std::byte(key ? 0x17 : 0x27), std::byte(config ? 0 : 1), std::byte{0}};
  return make_frame(track::video, ts, shared_buffer::copy_of(body));
}

struct hub_fixture : ::testing::Test {
  metric_registry registry;
  runtime rt{{2, false, 100}, registry};
  stream_hub hub{rt};
  void SetUp() override { rt.start(); }
  void TearDown() override { rt.stop(); }

  publish_result publish_on(unsigned i, std::string key, bool takeover = false) {
    std::promise<publish_result> p;
    asio::co_spawn(rt.at(i).context(),
                   hub.publish(std::move(key), {.takeover = takeover, .gop = {}}, {"test", "127.0.0.1:1", 0}),
                   [&](std::exception_ptr e, publish_result r) {
                     if (e) std::rethrow_exception(e);
                     p.set_value(std::move(r));
                   });
    return p.get_future().get();
  }
  // Waits (bounded) until sink s on shard i has seen n events.
  std::vector<std::string> events_of(unsigned i, recording_sink& s, std::size_t n) {
    for (int tries = 0; tries < 400; ++tries) {
      auto e = on_shard(rt, i, [&] { return s.events; });
      if (e.size() >= n) return e;
      std::this_thread::sleep_for(5ms);
    }
    return on_shard(rt, i, [&] { return s.events; });
  }
};

TEST_F(hub_fixture, frames_reach_sinks_on_every_shard_in_order) {
  recording_sink local, remote;
  on_shard(rt, 0, [&] { hub.subscribe("live/a", local); });
  on_shard(rt, 1, [&] { hub.subscribe("live/a", remote); });
  auto pub = publish_on(0, "live/a");
  ASSERT_TRUE(pub.handle);
  // Let shard 1's subscription reach the origin before frames flow.
  events_of(1, remote, 1);
  on_shard(rt, 0, [&] {
    pub.handle->push(video(0, true, true));
    pub.handle->push(video(0, true));
    pub.handle->push(video(40, false));
  });
  std::vector<std::string> expected{"start", "v0kc", "v0k", "v40"};
  EXPECT_EQ(events_of(0, local, 4), expected);
  EXPECT_EQ(events_of(1, remote, 4), expected);
  on_shard(rt, 0, [&] { pub.handle.reset(); });
  EXPECT_EQ(events_of(1, remote, 5).back(), "stop");
  EXPECT_EQ(events_of(0, local, 5).back(), "stop");
  on_shard(rt, 0, [&] { hub.unsubscribe("live/a", local); });
  on_shard(rt, 1, [&] { hub.unsubscribe("live/a", remote); });
}

TEST_F(hub_fixture, a_late_joiner_on_another_shard_starts_at_the_latest_keyframe) {
  auto pub = publish_on(0, "live/b");
  on_shard(rt, 0, [&] {
    pub.handle->push(video(0, true, true));
    pub.handle->push(video(0, true));
    pub.handle->push(video(40, false));
    pub.handle->push(video(80, true));
    pub.handle->push(video(120, false));
  });
  recording_sink late;
  on_shard(rt, 1, [&] { hub.subscribe("live/b", late); });
  std::vector<std::string> expected{"start", "v0kc", "v80k", "v120"};
  EXPECT_EQ(events_of(1, late, 4), expected);
  on_shard(rt, 0, [&] { pub.handle->push(video(160, false)); });
  EXPECT_EQ(events_of(1, late, 5).back(), "v160");
  on_shard(rt, 1, [&] { hub.unsubscribe("live/b", late); });
  on_shard(rt, 0, [&] { pub.handle.reset(); });
}

TEST_F(hub_fixture, a_keyframe_request_reaches_the_publisher_from_any_shard) {
  auto pub = publish_on(0, "live/k");
  std::atomic<int> asked{0};
  on_shard(rt, 0, [&] {
    pub.handle->on_keyframe_request([&] {
      EXPECT_EQ(shard::current()->index(), 0u);  // on the publisher's shard
      ++asked;
    });
    pub.handle->push(video(0, true, true));
    pub.handle->push(video(0, true));
  });
  recording_sink here, there;
  on_shard(rt, 0, [&] { hub.subscribe("live/k", here); });
  on_shard(rt, 1, [&] { hub.subscribe("live/k", there); });
  events_of(1, there, 2);  // live on shard 1 too
  on_shard(rt, 0, [&] { hub.request_keyframe("live/k"); });
  on_shard(rt, 1, [&] { hub.request_keyframe("live/k"); });
  for (int tries = 0; tries < 400 && asked < 2; ++tries) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(asked, 2);
  // A stream nobody publishes: nothing to ask, nothing breaks.
  on_shard(rt, 1, [&] { hub.request_keyframe("live/nobody"); });
  on_shard(rt, 0, [&] { hub.unsubscribe("live/k", here); });
  on_shard(rt, 1, [&] { hub.unsubscribe("live/k", there); });
  on_shard(rt, 0, [&] { pub.handle.reset(); });
}

TEST_F(hub_fixture, the_publisher_hears_when_its_stream_has_consumers_on_any_shard) {
  // A player waiting before the publisher arrives is a consumer from the start.
  recording_sink early, here, there;
  on_shard(rt, 0, [&] { hub.subscribe("live/w", early); });
  auto waited = publish_on(0, "live/w");
  EXPECT_TRUE(on_shard(rt, 0, [&] { return waited.handle->demanded(); }));
  on_shard(rt, 0, [&] { hub.unsubscribe("live/w", early); });
  EXPECT_FALSE(on_shard(rt, 0, [&] { return waited.handle->demanded(); }));
  on_shard(rt, 0, [&] { waited.handle.reset(); });

  auto pub = publish_on(0, "live/d");
  std::vector<bool> heard;  // on shard 0 only
  auto heard_now = [&] { return on_shard(rt, 0, [&] { return heard; }); };
  auto wait_heard = [&](std::size_t n) {
    for (int tries = 0; tries < 400 && heard_now().size() < n; ++tries) std::this_thread::sleep_for(5ms);
    return heard_now();
  };
  on_shard(rt, 0, [&] {
    EXPECT_FALSE(pub.handle->demanded());
    pub.handle->on_demand([&](bool now) {
      EXPECT_EQ(shard::current()->index(), 0u);
      heard.push_back(now);
    });
  });
  on_shard(rt, 1, [&] { hub.subscribe("live/d", there); });  // another shard: after a round trip
  EXPECT_EQ(wait_heard(1), std::vector<bool>({true}));
  on_shard(rt, 0, [&] { hub.subscribe("live/d", here); });  // still demanded: nothing new
  on_shard(rt, 1, [&] { hub.unsubscribe("live/d", there); });
  on_shard(rt, 0, [&] { hub.unsubscribe("live/d", here); });
  EXPECT_EQ(wait_heard(2), std::vector<bool>({true, false}));
  on_shard(rt, 0, [&] { hub.subscribe("live/d", here); });
  EXPECT_EQ(heard_now(), std::vector<bool>({true, false, true}));
  // A sink that leaves while a frame is delivered (the publisher is pushing) ends the demand too.
  struct leaving_sink : sink {
    stream_hub* hub;
    void on_start() override {}
    void on_stop() override {}
    void on_frame(const shard_frame_ptr&) override { hub->unsubscribe("live/d", *this); }
  } leaving;
  leaving.hub = &hub;
  on_shard(rt, 0, [&] {
    hub.unsubscribe("live/d", here);
    hub.subscribe("live/d", leaving);
    pub.handle->push(video(0, true));
  });
  EXPECT_EQ(heard_now(), std::vector<bool>({true, false, true, false, true, false}));
  on_shard(rt, 0, [&] { pub.handle.reset(); });
}

TEST_F(hub_fixture, a_second_publisher_is_refused_on_any_shard) {
  auto first = publish_on(0, "live/c");
  ASSERT_TRUE(first.handle);
  auto second = publish_on(1, "live/c");
  EXPECT_FALSE(second.handle);
  EXPECT_EQ(second.refusal, publish_refusal::already_publishing);
  auto same_shard = publish_on(0, "live/c");
  EXPECT_FALSE(same_shard.handle);
  on_shard(rt, 0, [&] { first.handle.reset(); });
  // Released: the name can be published again (the release is one hop away).
  publish_result again;
  for (int tries = 0; tries < 200 && !again.handle; ++tries) {
    again = publish_on(1, "live/c");
    if (!again.handle) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(again.handle);
  on_shard(rt, 1, [&] { again.handle.reset(); });
}

TEST_F(hub_fixture, takeover_evicts_the_current_publisher_and_players_follow) {
  recording_sink player;
  on_shard(rt, 1, [&] { hub.subscribe("live/d", player); });
  auto first = publish_on(0, "live/d");
  std::promise<void> evicted;
  on_shard(rt, 0, [&] { first.handle->on_evicted([&] { evicted.set_value(); }); });
  events_of(1, player, 1);
  auto second = publish_on(1, "live/d", true);
  ASSERT_TRUE(second.handle);
  EXPECT_EQ(evicted.get_future().wait_for(2s), std::future_status::ready);
  on_shard(rt, 1, [&] { second.handle->push(video(1000, true)); });
  auto e = events_of(1, player, 3);
  EXPECT_EQ(e.back(), "v1000k");
  on_shard(rt, 0, [&] { first.handle.reset(); });  // detached already: a no-op
  on_shard(rt, 1, [&] {
    hub.unsubscribe("live/d", player);
    second.handle.reset();
  });
}

// The takeover happens on the shard that publishes: players elsewhere keep their subscription
// and get the new publisher's frames, and the old publisher leaving later ends nothing.
TEST_F(hub_fixture, takeover_on_the_publishing_shard_keeps_players_elsewhere) {
  recording_sink player;
  on_shard(rt, 1, [&] { hub.subscribe("live/f", player); });
  auto first = publish_on(0, "live/f");
  std::promise<void> evicted;
  on_shard(rt, 0, [&] { first.handle->on_evicted([&] { evicted.set_value(); }); });
  on_shard(rt, 0, [&] { first.handle->push(video(0, true)); });
  events_of(1, player, 2);
  auto second = publish_on(0, "live/f", true);
  ASSERT_TRUE(second.handle);
  EXPECT_EQ(evicted.get_future().wait_for(2s), std::future_status::ready);
  on_shard(rt, 0, [&] { first.handle.reset(); });  // detached: releases nothing
  std::this_thread::sleep_for(20ms);
  on_shard(rt, 0, [&] { second.handle->push(video(500, true)); });
  auto e = events_of(1, player, 4);
  std::vector<std::string> expected{"start", "v0k", "start", "v500k"};
  EXPECT_EQ(e, expected);
  // The name is still claimed by the second publisher: a third without takeover is refused.
  EXPECT_FALSE(publish_on(1, "live/f").handle);
  on_shard(rt, 1, [&] { hub.unsubscribe("live/f", player); });
  on_shard(rt, 0, [&] { second.handle.reset(); });
}

TEST_F(hub_fixture, a_waiting_player_starts_when_the_publisher_returns) {
  recording_sink player;
  on_shard(rt, 1, [&] { hub.subscribe("live/e", player); });
  for (int round = 0; round < 2; ++round) {
    auto pub = publish_on(0, "live/e");
    ASSERT_TRUE(pub.handle) << round;
    events_of(1, player, 3 * round + 1);
    on_shard(rt, 0, [&] { pub.handle->push(video(round * 100, true)); });
    events_of(1, player, 3 * round + 2);
    on_shard(rt, 0, [&] { pub.handle.reset(); });
    events_of(1, player, 3 * round + 3);
    std::this_thread::sleep_for(20ms);  // the release reaches the home shard
  }
  std::vector<std::string> expected{"start", "v0k", "stop", "start", "v100k", "stop"};
  EXPECT_EQ(events_of(1, player, 6), expected);
  on_shard(rt, 1, [&] { hub.unsubscribe("live/e", player); });
}

TEST_F(hub_fixture, list_merges_streams_from_every_shard) {
  recording_sink a, b;
  auto pub = publish_on(0, "live/f");
  on_shard(rt, 0, [&] {
    hub.subscribe("live/f", a);
    pub.handle->push(video(0, true, true));
  });
  on_shard(rt, 1, [&] { hub.subscribe("live/f", b); });
  std::promise<std::vector<stream_summary>> listed;
  asio::co_spawn(rt.at(1).context(), hub.list(),
                 [&](std::exception_ptr, std::vector<stream_summary> s) { listed.set_value(std::move(s)); });
  auto streams = listed.get_future().get();
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].key, "live/f");
  EXPECT_TRUE(streams[0].live);
  EXPECT_EQ(streams[0].sinks, 2u);
  EXPECT_EQ(streams[0].video_codec, "h264");
  EXPECT_EQ(streams[0].publisher.address, "127.0.0.1:1");
  on_shard(rt, 0, [&] {
    hub.unsubscribe("live/f", a);
    pub.handle.reset();
  });
  on_shard(rt, 1, [&] { hub.unsubscribe("live/f", b); });
}

}  // namespace
}  // namespace junction::media
