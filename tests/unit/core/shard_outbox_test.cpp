#include "core/shard_outbox.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace junction {
namespace {

runtime_options two_shards() { return {2, false, 100}; }

// What shard 0 sends shard 1 in one turn crosses in one post, in order, and runs on shard 1.
TEST(ShardOutbox, WhatOneTurnSendsCrossesInOnePostInOrder) {
  metric_registry registry;
  runtime rt{two_shards(), registry};
  rt.start();
  std::vector<int> seen;  // touched only on shard 1
  std::promise<std::vector<int>> done;
  std::promise<std::uint64_t> posts;
  std::unique_ptr<shard_outbox> outbox;
  rt.post(0, [&] {
    outbox = std::make_unique<shard_outbox>(rt, rt.at(0));
    for (int i = 0; i < 10; ++i)
      outbox->post(1, [&seen, i, owned = std::make_unique<int>(i)] {  // move-only jobs cross too
        EXPECT_EQ(shard::current()->index(), 1u);
        seen.push_back(*owned + i);
      });
    EXPECT_EQ(outbox->pending(), 10u);  // nothing left before this turn ends
    EXPECT_EQ(outbox->posts(), 0u);
    outbox->post(1, [&] { done.set_value(seen); });
  });
  EXPECT_EQ(done.get_future().get(), (std::vector<int>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18}));
  rt.post(0, [&] { posts.set_value(outbox->posts()); });
  EXPECT_EQ(posts.get_future().get(), 1u);
  rt.post(0, [&] { outbox.reset(); });
  rt.stop();
}

// A batch that reaches its limit goes at once; later turns send their own batches.
TEST(ShardOutbox, AFullBatchGoesAtOnceAndEachTurnSendsItsOwn) {
  metric_registry registry;
  runtime rt{two_shards(), registry};
  rt.start();
  int ran = 0;  // shard 1's
  std::unique_ptr<shard_outbox> outbox;
  std::promise<std::uint64_t> after_eight;
  std::promise<int> ninth;
  rt.post(0, [&] {
    outbox = std::make_unique<shard_outbox>(rt, rt.at(0), 4);
    for (int i = 0; i < 8; ++i) outbox->post(1, [&ran] { ++ran; });
    after_eight.set_value(outbox->posts());  // two full batches of 4 went already
    outbox->post(1, [&] { ninth.set_value(++ran); });
  });
  EXPECT_EQ(after_eight.get_future().get(), 2u);
  EXPECT_EQ(ninth.get_future().get(), 9);
  std::promise<int> total;
  rt.post(0, [&] { outbox->post(1, [&] { total.set_value(++ran); }); });
  EXPECT_EQ(total.get_future().get(), 10);
  std::promise<std::uint64_t> posts;
  rt.post(0, [&] { posts.set_value(outbox->posts()); });
  EXPECT_EQ(posts.get_future().get(), 4u);  // 4 + 4, the ninth at the turn's end, the tenth alone
  rt.post(0, [&] { outbox.reset(); });
  rt.stop();
}

}  // namespace
}  // namespace junction
