#include "core/write_queue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "core/runtime.hpp"

namespace junction {
namespace {

namespace asio = boost::asio;

std::string item(int i) {
  std::string s = "m";
  s += std::to_string(i);  // (not "m" + ...: GCC 12 warns falsely, -Wrestrict)
  return s;
}

// Every write yields to the loop once, as a socket's would, so that sends queue up meanwhile.
struct recorded_writes {
  std::vector<std::string> written;
  std::function<void(std::size_t)> after_each;  // called with how many were written
};

write_queue::write_fn recording(asio::io_context& io, recorded_writes& r) {
  return [&io, &r](std::string_view bytes) -> asio::awaitable<boost::system::error_code> {
    co_await asio::post(io, asio::use_awaitable);
    r.written.emplace_back(bytes);
    if (r.after_each) r.after_each(r.written.size());
    co_return boost::system::error_code{};
  };
}

TEST(WriteQueue, WritesInOrderWhileItKeepsFillingAndStopsOnceWritten) {
  metric_registry registry;
  runtime rt{{1, false, 10}, registry};
  auto& io = rt.at(0).context();
  recorded_writes r;
  int closed = 0;
  write_queue q(rt.at(0), "test", recording(io, r), [&] { ++closed; }, 1 << 20);
  // The loop spawned beside a reader, and a coroutine that waits for it to end.
  bool ended = false;
  q.spawn_loop();
  asio::co_spawn(io, q.loop_ended(), [&](std::exception_ptr) { ended = true; });
  // A burst before the loop runs, then a queue that never empties: two sent for every one
  // written, until 3,000 were sent in all.
  int sent = 0;
  for (; sent < 100; ++sent) q.send(item(sent));
  r.after_each = [&](std::size_t) {
    for (int i = 0; i < 2 && sent < 3000; ++i, ++sent) q.send(item(sent));
    if (sent == 3000) q.stop_when_written();
  };
  io.run();
  ASSERT_EQ(r.written.size(), 3000u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(r.written[static_cast<std::size_t>(i)], item(i));
  EXPECT_TRUE(ended);
  EXPECT_TRUE(q.stopped());
  EXPECT_EQ(closed, 1);
  EXPECT_EQ(q.queued(), 0u);
  q.send("after");  // a stopped queue takes nothing
  EXPECT_EQ(q.queued(), 0u);
}

TEST(WriteQueue, APeerThatStopsReadingIsClosedAtTheLimit) {
  metric_registry registry;
  runtime rt{{1, false, 10}, registry};
  auto& io = rt.at(0).context();
  int closed = 0;
  write_queue q(rt.at(0), "test", [](std::string_view) -> asio::awaitable<boost::system::error_code> {
    co_return boost::system::error_code{};
  }, [&] { ++closed; }, 10);
  q.send("12345");
  q.send("67890");
  EXPECT_EQ(q.queued(), 10u);
  q.send("x");  // over the limit: closed, nothing more taken
  EXPECT_TRUE(q.stopped());
  EXPECT_EQ(closed, 1);
  (void)io;
}

}  // namespace
}  // namespace junction
