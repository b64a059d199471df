#include "media/send_queue.hpp"

#include <gtest/gtest.h>

namespace junction::media {
namespace {

frame video(bool key, std::size_t size = 100, bool config = false) {
  std::vector<std::byte> body(size, std::byte{0});
  body[0] = std::byte(key ? 0x17 : 0x27);
  body[1] = std::byte(config ? 0 : 1);
  return make_frame(track::video, 0, shared_buffer::copy_of(body));
}
frame audio(std::size_t size = 100) {
  std::vector<std::byte> body(size, std::byte{0});
  body[0] = std::byte{0xAF};
  body[1] = std::byte{1};
  return make_frame(track::audio, 0, shared_buffer::copy_of(body));
}

TEST(send_queue, takes_in_order_up_to_a_byte_budget) {
  send_queue q{10'000};
  for (int i = 0; i < 5; ++i) q.push_media(video(i == 0).payload, video(i == 0));
  EXPECT_EQ(q.bytes(), 500u);
  std::vector<shared_buffer> out;
  q.take(out, 250);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(q.bytes(), 300u);
  out.clear();
  q.take(out, 1);  // at least one, whatever the budget
  EXPECT_EQ(out.size(), 1u);
}

TEST(send_queue, a_slow_consumer_skips_to_the_next_keyframe) {
  send_queue q{450};
  q.push_control(shared_buffer::copy_of(std::string_view{"status"}));
  auto key = video(true), inter = video(false);
  EXPECT_TRUE(q.push_media(key.payload, key));
  EXPECT_TRUE(q.push_media(inter.payload, inter));
  EXPECT_TRUE(q.push_media(inter.payload, inter));
  EXPECT_TRUE(q.push_media(inter.payload, inter));
  EXPECT_TRUE(q.push_media(inter.payload, inter)) << "406 bytes ahead of it: under the cap";
  EXPECT_FALSE(q.push_media(inter.payload, inter)) << "506 bytes ahead of it: over the cap";
  EXPECT_TRUE(q.skipping());
  EXPECT_EQ(q.bytes(), 6u) << "queued media dropped, the status kept";
  EXPECT_EQ(q.dropped_frames(), 6u);
  EXPECT_FALSE(q.push_media(inter.payload, inter));
  auto a = audio();
  EXPECT_FALSE(q.push_media(a.payload, a)) << "audio waits for the video keyframe too";
  auto config = video(true, 10, true);
  EXPECT_TRUE(q.push_media(config.payload, config)) << "sequence headers always pass";
  EXPECT_TRUE(q.push_media(key.payload, key));
  EXPECT_FALSE(q.skipping());
  EXPECT_EQ(q.skips(), 1u);
  std::vector<shared_buffer> out;
  q.take(out, 1 << 20);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].text(), "status");
  EXPECT_EQ(out[2].data(), key.payload.data());
}

TEST(send_queue, a_frame_bigger_than_the_budget_goes_to_a_consumer_that_keeps_up) {
  send_queue q{100};
  auto small = audio(10);
  EXPECT_TRUE(q.push_media(small.payload, small));
  auto big = video(true, 1000);
  EXPECT_TRUE(q.push_media(big.payload, big)) << "only 10 bytes wait ahead of it";
  EXPECT_FALSE(q.skipping());
  auto inter = video(false, 10);
  EXPECT_FALSE(q.push_media(inter.payload, inter)) << "but nothing joins it past the budget";
  EXPECT_TRUE(q.skipping());
}

TEST(send_queue, an_audio_only_stream_resumes_when_drained) {
  send_queue q{200};
  auto a = audio();
  EXPECT_TRUE(q.push_media(a.payload, a));
  EXPECT_TRUE(q.push_media(a.payload, a));
  EXPECT_FALSE(q.push_media(a.payload, a));
  EXPECT_TRUE(q.skipping());
  EXPECT_TRUE(q.push_media(a.payload, a)) << "queue empty: resume";
}

TEST(send_queue, order_and_references_survive_wrapping_and_growth) {
  // The ring wraps many times and grows past its first size, with control entries kept in
  // order through a skip; every buffer comes out once, in order, and none is held after.
  send_queue q{1 << 20};
  std::vector<shared_buffer> sent, out;
  std::uint32_t next = 0;
  auto numbered = [&next](bool control) {
    std::vector<std::byte> body(8, std::byte{0});
    body[0] = std::byte{0x27};
    body[1] = std::byte{1};
    body[4] = std::byte(next & 0xFF);
    body[5] = std::byte((next >> 8) & 0xFF);
    body[7] = std::byte(control);
    ++next;
    return shared_buffer::copy_of(body);
  };
  for (int round = 0; round < 200; ++round) {
    const int burst = 1 + round % 37;  // up to 37 at once: past the first 16 slots
    for (int i = 0; i < burst; ++i) {
      auto b = numbered(i % 5 == 0);
      sent.push_back(b);
      if (i % 5 == 0) q.push_control(b);
      else q.push_media(b, make_frame(track::video, 0, b));
    }
    q.take(out, 8 * static_cast<std::size_t>(1 + round % 7));
  }
  while (!q.empty()) q.take(out, 1 << 20);
  ASSERT_EQ(out.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(out[i].data(), sent[i].data()) << i;
  out.clear();
  for (const auto& b : sent) EXPECT_EQ(b.use_count(), 1u);  // the queue kept no reference

  // A skip in the middle of a wrapped ring keeps the control entries, in order.
  send_queue small{64};
  std::vector<shared_buffer> controls;
  for (int i = 0; i < 40; ++i) {
    small.push_media(numbered(false), video(false, 8));
    if (i % 3 == 0) {
      controls.push_back(numbered(true));
      small.push_control(controls.back());
    }
    if (i % 4 == 0) small.take(out, 16);
  }
  out.clear();
  small.restart();
  small.take(out, 1 << 20);
  ASSERT_FALSE(out.empty());
  // Only control entries are left, the newest ones, in the order they were pushed.
  for (const auto& b : out) EXPECT_EQ(static_cast<int>(b.data()[7]), 1);
  EXPECT_EQ(out.back().data(), controls.back().data());
  for (std::size_t i = 1; i < out.size(); ++i) {
    auto number = [](const shared_buffer& b) { return static_cast<int>(b.data()[4]) | static_cast<int>(b.data()[5]) << 8; };
    EXPECT_LT(number(out[i - 1]), number(out[i]));
  }
}

}  // namespace
}  // namespace junction::media
