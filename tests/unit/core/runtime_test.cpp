#include "core/cross_shard.hpp"
#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/shared_buffer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

namespace junction {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

runtime_options two_shards() { return {2, false, 100}; }

TEST(runtime, each_shard_runs_on_its_own_thread) {
  metric_registry registry;
  runtime rt{two_shards(), registry};
  rt.start();
  std::promise<std::thread::id> a, b;
  std::promise<unsigned> index_seen;
  rt.post(0, [&] { a.set_value(std::this_thread::get_id()); });
  rt.post(1, [&] {
    b.set_value(std::this_thread::get_id());
    index_seen.set_value(shard::current()->index());
  });
  auto ta = a.get_future().get(), tb = b.get_future().get();
  EXPECT_NE(ta, tb);
  EXPECT_NE(ta, std::this_thread::get_id());
  EXPECT_EQ(index_seen.get_future().get(), 1u);
  EXPECT_EQ(shard::current(), nullptr);
  rt.stop();
}

TEST(runtime, passes_shared_buffers_between_shards_without_copying) {
  metric_registry registry;
  runtime rt{two_shards(), registry};
  rt.start();
  std::promise<const std::byte*> seen;
  rt.post(0, [&] {
    auto message = shared_buffer::copy_of(std::string_view{"frame"});
    auto* original = message.data();
    rt.post(1, [&seen, message, original] {
      EXPECT_EQ(shard::current()->index(), 1u);
      EXPECT_EQ(message.text(), "frame");
      seen.set_value(message.data() == original ? original : nullptr);
    });
  });
  EXPECT_NE(seen.get_future().get(), nullptr);
  rt.stop();
}

TEST(runtime, invoke_on_returns_to_the_calling_shard) {
  metric_registry registry;
  runtime rt{two_shards(), registry};
  rt.start();
  std::promise<std::pair<unsigned, unsigned>> done;
  asio::co_spawn(
      rt.at(0).context(),
      [&]() -> asio::awaitable<void> {
        auto& other = rt.at(1);
        unsigned ran_on = co_await invoke_on(other, [] { return shard::current()->index(); });
        done.set_value({ran_on, shard::current()->index()});
      },
      asio::detached);
  auto [ran_on, resumed_on] = done.get_future().get();
  EXPECT_EQ(ran_on, 1u);
  EXPECT_EQ(resumed_on, 0u);
  rt.stop();
}

TEST(runtime, metrics_are_per_shard_and_merged_on_read) {
  metric_registry registry;
  auto id = registry.add("junction_test_total", "t", metric_kind::counter);
  runtime rt{two_shards(), registry};
  rt.start();
  std::promise<void> a, b;
  rt.post(0, [&] { shard::current()->metrics().add(id, 2); a.set_value(); });
  rt.post(1, [&] { shard::current()->metrics().add(id, 5); b.set_value(); });
  a.get_future().get();
  b.get_future().get();
  auto all = rt.all_metrics();
  EXPECT_EQ(all[0]->get(id), 2u);
  EXPECT_EQ(all[1]->get(id), 5u);
  EXPECT_EQ(registry.total(id, all), 7u);
  rt.stop();
}

// A TCP session that holds its connection until the peer or the shard closes it.
asio::awaitable<void> hold(shard& home, asio::ip::tcp::socket socket, connection_ticket ticket,
                           const connection_metrics& m) {
  auto fd = socket.native_handle();
  connection conn{home, std::move(ticket), m, "test", "peer", [fd] { ::shutdown(fd, SHUT_RDWR); }};
  conn.set_idle(true);
  char byte;
  co_await socket.async_read_some(asio::buffer(&byte, 1),
                                  asio::as_tuple(asio::use_awaitable));
}

// Listens on an ephemeral loopback port; every accepted connection runs `hold`.
asio::ip::tcp::endpoint listen_holding(runtime& rt, const connection_metrics& m) {
  return listen_tcp(rt, {"127.0.0.1", 0}, m,
                    [&m](shard& home, asio::ip::tcp::socket s, connection_ticket t) {
                      asio::co_spawn(home.context(), hold(home, std::move(s), std::move(t), m),
                                     asio::detached);
                    });
}

TEST(runtime, shutdown_stops_accepting_and_closes_idle_connections) {
  metric_registry registry;
  auto m = connection_metrics::declare(registry, "test");
  runtime rt{two_shards(), registry};
  auto bound = listen_holding(rt, m);
  rt.start();
  asio::io_context client;
  std::vector<asio::ip::tcp::socket> sockets;
  for (int i = 0; i < 8; ++i) {
    sockets.emplace_back(client);
    sockets.back().connect(bound);
  }
  for (int i = 0; i < 200 && rt.open_connections() < 8; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(rt.open_connections(), 8u);
  auto started = std::chrono::steady_clock::now();
  rt.shutdown(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);  // idle: closed at once
  EXPECT_EQ(rt.open_connections(), 0u);
  for (auto& s : sockets) {
    char byte;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec) << "the server should have closed every idle connection";
  }
  boost::system::error_code ec;
  asio::ip::tcp::socket late{client};
  late.connect(bound, ec);
  EXPECT_TRUE(ec) << "nothing should accept after shutdown";
}

TEST(runtime, connection_limit_refuses_and_counts) {
  metric_registry registry;
  auto m = connection_metrics::declare(registry, "test");
  runtime rt{{2, false, 3}, registry};
  auto bound = listen_holding(rt, m);
  rt.start();
  asio::io_context client;
  std::vector<asio::ip::tcp::socket> sockets;
  for (int i = 0; i < 6; ++i) {
    sockets.emplace_back(client);
    sockets.back().connect(bound);
  }
  auto refused = [&] { return registry.total(m.refused, rt.all_metrics()); };
  for (int i = 0; i < 400 && refused() < 3; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(refused(), 3u);
  EXPECT_EQ(rt.open_connections(), 3u);
  EXPECT_EQ(registry.total(m.accepted, rt.all_metrics()), 3u);
  rt.shutdown(1s);
}

TEST(runtime, udp_sockets_on_every_shard_share_one_port) {
  metric_registry registry;
  runtime rt{two_shards(), registry};
  std::atomic<int> received{0};
  std::set<unsigned> shards_bound;
  std::mutex mutex;
  auto bound = listen_udp(rt, {"127.0.0.1", 0}, [&](shard& home, asio::ip::udp::socket socket) {
    {
      std::lock_guard lock{mutex};
      shards_bound.insert(home.index());
    }
    asio::co_spawn(
        home.context(),
        [&received, s = std::move(socket)]() mutable -> asio::awaitable<void> {
          char buf[64];
          asio::ip::udp::endpoint from;
          for (;;) {
            auto [ec, n] = co_await s.async_receive_from(asio::buffer(buf), from,
                                                         asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            ++received;
          }
        },
        asio::detached);
  });
  EXPECT_NE(bound.port(), 0);
  rt.start();
  asio::io_context client;
  // Many source ports, so the kernel's hash reaches every shard's socket.
  for (int i = 0; i < 64; ++i) {
    asio::ip::udp::socket s{client, asio::ip::udp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
    s.send_to(asio::buffer("x", 1), bound);
  }
  for (int i = 0; i < 400 && received < 64; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(received.load(), 64);
  {
    std::lock_guard lock{mutex};
    EXPECT_EQ(shards_bound.size(), 2u);
  }
  rt.stop();
}

}  // namespace
}  // namespace junction
