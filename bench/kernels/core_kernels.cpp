// Costs of the runtime's building blocks: passing a buffer between shards, and counting.
#include "core/metrics.hpp"
#include "core/runtime.hpp"
#include "core/shared_buffer.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

namespace {
using namespace junction;

void shared_buffer_copy_of_1k(benchmark::State& state) {
  std::string payload(1024, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(shared_buffer::copy_of(payload));
}
BENCHMARK(shared_buffer_copy_of_1k);

void shared_buffer_share(benchmark::State& state) {
  auto buffer = shared_buffer::copy_of(std::string_view{"frame"});
  for (auto _ : state) {
    shared_buffer copy = buffer;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(shared_buffer_share);

void shard_counter_add(benchmark::State& state) {
  metric_registry registry;
  auto id = registry.add("x", "x", metric_kind::counter);
  shard_metrics metrics{metric_registry::capacity};
  for (auto _ : state) metrics.add(id);
  benchmark::DoNotOptimize(metrics.get(id));
}
BENCHMARK(shard_counter_add);

// One message from shard 0 to shard 1 and back, per iteration: the cross-shard hop's latency.
void cross_shard_round_trip(benchmark::State& state) {
  metric_registry registry;
  runtime rt{{2, true, 10}, registry};
  rt.start();
  std::atomic<bool> back{false};
  auto message = shared_buffer::copy_of(std::string_view{"ping"});
  for (auto _ : state) {
    back.store(false, std::memory_order_relaxed);
    rt.post(1, [&rt, &back, message] {
      rt.post(0, [&back, message] { back.store(true, std::memory_order_release); });
    });
    while (!back.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  rt.stop();
}
BENCHMARK(cross_shard_round_trip)->UseRealTime();

}  // namespace
