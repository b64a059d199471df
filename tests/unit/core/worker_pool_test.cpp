#include "core/worker_pool.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

namespace junction {
namespace {

TEST(WorkerPool, JobsRunInOrderOffTheCallersThreadAtLowerPriority) {
  worker_pool pool(2, 10);
  ASSERT_EQ(pool.size(), 2u);
  const std::size_t w = pool.assign();
  std::vector<int> order;
  std::promise<std::thread::id> where;
  std::promise<int> priority;
  for (int i = 0; i < 100; ++i) pool.post(w, [&order, i] { order.push_back(i); });
  pool.post(w, [&] {
    priority.set_value(getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))));
    where.set_value(std::this_thread::get_id());
  });
  EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
  EXPECT_GE(priority.get_future().get(), getpriority(PRIO_PROCESS, 0) + 1);  // nicer than the shards
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);  // one worker: in posting order
}

TEST(WorkerPool, CallsAreSpreadOverTheWorkers) {
  worker_pool pool(3, 0);
  std::vector<std::size_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(pool.assign());
  std::vector<int> per(3);
  for (auto w : got) ++per[w];
  EXPECT_EQ(per, (std::vector<int>{2, 2, 2}));
  pool.release(got[0]);
  EXPECT_EQ(pool.assign(), got[0]);  // the least loaded again
}

}  // namespace
}  // namespace junction
