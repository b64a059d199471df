#include "core/sharded.hpp"

#include <future>
#include <latch>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include "core/metrics.hpp"

namespace junction {
namespace {

namespace asio = boost::asio;

struct counter {
  unsigned shard_index;
  std::thread::id thread{};
  int value = 0;
  std::vector<int>* destroyed;
  counter(shard& home, std::vector<int>* log) : shard_index(home.index()), destroyed(log) {}
  ~counter() { destroyed->push_back(static_cast<int>(shard_index)); }
};

struct ShardedTest : ::testing::Test {
  metric_registry registry;
  runtime rt{{3, false, 100}, registry};
  std::vector<int> destroyed;
};

// Runs f on shard i and waits for it.
template <class F>
void on_shard(runtime& rt, unsigned i, F f) {
  std::promise<void> done;
  rt.post(i, [&] {
    f();
    done.set_value();
  });
  done.get_future().get();
}

TEST_F(ShardedTest, OneInstancePerShardEachOnItsOwnThread) {
  sharded<counter> counters(rt, &destroyed);
  ASSERT_EQ(counters.size(), 3u);
  rt.start();
  for (unsigned i = 0; i < 3; ++i)
    on_shard(rt, i, [&] {
      EXPECT_EQ(counters.local().shard_index, i);
      counters.local().thread = std::this_thread::get_id();
    });
  EXPECT_NE(counters.at(0).thread, counters.at(1).thread);
  rt.stop();
  counters.stop();
  EXPECT_EQ(destroyed, (std::vector<int>{2, 1, 0}));  // last shard first
}

TEST_F(ShardedTest, InvokeOnAndOnAllRunOnTheShards) {
  sharded<counter> counters(rt, &destroyed);
  rt.start();
  std::latch ran(4);
  counters.invoke_on_all([&](counter& c) {
    EXPECT_EQ(shard::current()->index(), c.shard_index);
    c.value += 10;
    ran.count_down();
  });
  counters.invoke_on(1, [&](counter& c) {
    c.value += 1;
    ran.count_down();
  });
  ran.wait();
  rt.stop();
  EXPECT_EQ(counters.at(0).value, 10);
  EXPECT_EQ(counters.at(1).value, 11);
}

TEST_F(ShardedTest, AskBringsTheAnswerBackToTheCallersShard) {
  sharded<counter> counters(rt, &destroyed);
  counters.at(2).value = 42;
  rt.start();
  std::promise<std::pair<int, unsigned>> got;
  rt.post(0, [&] {
    asio::co_spawn(
        rt.at(0).context(),
        [&]() -> asio::awaitable<void> {
          int v = co_await counters.ask(2, [](counter& c) { return c.value; });
          got.set_value({v, shard::current()->index()});
        },
        asio::detached);
  });
  auto [value, where] = got.get_future().get();
  rt.stop();
  EXPECT_EQ(value, 42);
  EXPECT_EQ(where, 0u);
}

}  // namespace
}  // namespace junction
