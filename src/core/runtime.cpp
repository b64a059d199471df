#include "core/runtime.hpp"

#include "core/log.hpp"
#include "core/endpoint.hpp"
#include "core/shared_tick.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include <boost/asio/executor_work_guard.hpp>

#include <pthread.h>
#include <cstdlib>
#include <vector>
#include <sched.h>

namespace junction {
namespace {
thread_local shard* current_shard = nullptr;

// glibc grows a thread's arena (every arena but the main one) page by page, one mprotect each
// time its top runs out, up to the largest size it has reached before: a shard whose SIP
// transactions pile up for their 32 s timers spent 3-6 % of a call's CPU in sysmalloc's
// grow_heap. Reaching `bytes` once at start, in blocks below the mmap threshold that are freed at
// once, makes every later growth up to it free of system calls; the memory itself goes back to
// the kernel at once (the trim threshold), only the address range stays writable.
void reserve_thread_heap(std::size_t bytes) {
  constexpr std::size_t block = 128 * 1024;  // under M_MMAP_THRESHOLD (256 KiB, main.cpp)
  std::vector<void*> blocks;
  blocks.reserve(bytes / block);
  for (std::size_t got = 0; got < bytes; got += block)
    if (void* p = std::malloc(block)) blocks.push_back(p);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
}
}

shard::shard(runtime& owner, unsigned index)
    : owner_{owner},
      index_{index},
      // A concurrency hint of 1: one thread runs this context, which lets Asio skip some locking.
      context_{1},
      metrics_{metric_registry::capacity},
      connections_{index},
      merge_tick_{std::make_unique<shared_tick>(context_)} {}

shard::~shard() = default;

shard* shard::current() noexcept { return current_shard; }

void shard::run(int cpu) {
  current_shard = this;
  log::set_thread_tag(fmt::format("s{}", index_));
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0)
      log::warn("could not pin shard {} to cpu {}: error {}", index_, cpu, rc);
  }
  reserve_thread_heap(32u << 20);
  auto work = boost::asio::make_work_guard(context_);
  // The control plane may throw; the boundary is here, where the reason is logged and the loop
  // goes on serving every other session of the shard.
  for (;;) {
    try {
      context_.run();
      break;
    } catch (const std::exception& e) {
      log::error("shard {}: handler failed: {}", index_, e.what());
    }
  }
  settle();
  current_shard = nullptr;
}

// Stopped: a listener or a socket closed just before (by the drain) may still have an operation
// in the kernel, cancelled but not yet answered. With io_uring, Asio 1.81 keeps such an operation
// with the closed socket's slot and destroys it only with the io_context, after the socket
// services it refers to are gone (UBSan: "member call on ... invalid vptr" from a move-accept).
// Running the loop a little longer reaps those answers while everything is alive; what is still
// open is shut down by the io_context as usual.
void shard::settle() {
  context_.restart();
  try {
    context_.run_for(settle_time);
  } catch (const std::exception& e) {
    log::error("shard {}: handler failed while stopping: {}", index_, e.what());
  }
}

void shard::begin_drain() {
  if (draining_) return;
  draining_ = true;
  for (auto& hook : drain_hooks_) hook();
  drain_hooks_.clear();
  connections_.close_idle();
}

void runtime::claim_listen_address(std::string_view transport, const std::string& host, std::uint16_t port) {
  if (port == 0 || share_listeners_) return;
  const std::string where = fmt::format("{} {}", transport, listen_address{host, port}.to_string());
  if (!claims_.claim(fmt::format("junction:{}:{}:{}", transport, host, port)))
    throw std::runtime_error(fmt::format("another junction is already listening on {} (server.share_listeners = true "
                                         "lets two share it through SO_REUSEPORT)", where));
}

runtime::runtime(const runtime_options& options, metric_registry& registry)
    : registry_{registry},
      limit_{options.max_connections},
      sources_{options.max_connections_per_source},
      pin_{options.pin_cpus},
      share_listeners_{options.share_listeners} {
  unsigned count = options.shards;
  if (count == 0) count = static_cast<unsigned>(std::max<std::size_t>(1, allowed_cpus().size()));
  for (unsigned i = 0; i < count; ++i) shards_.push_back(std::make_unique<shard>(*this, i));
  started_ = std::chrono::steady_clock::now();
}

runtime::~runtime() { stop(); }

std::vector<int> runtime::allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

std::vector<const shard_metrics*> runtime::all_metrics() const {
  std::vector<const shard_metrics*> out;
  for (const auto& s : shards_) out.push_back(&s->metrics());
  return out;
}

void runtime::start() {
  if (!threads_.empty()) return;
  auto cpus = pin_ ? allowed_cpus() : std::vector<int>{};
  for (auto& s : shards_) {
    int cpu = cpus.empty() ? -1 : cpus[s->index() % cpus.size()];
    threads_.emplace_back([s = s.get(), cpu] { s->run(cpu); });
  }
}

void runtime::drain() {
  for (auto& s : shards_) post(s->index(), [s = s.get()] { s->begin_drain(); });
}

void runtime::close_all() {
  for (auto& s : shards_) post(s->index(), [s = s.get()] { s->connections().close_all(); });
}

void runtime::shutdown(std::chrono::milliseconds deadline, const std::function<bool()>& hurry) {
  using clock = std::chrono::steady_clock;
  auto wait_until_closed = [&](clock::time_point until) {
    while (open_connections() > 0 && clock::now() < until) {
      if (hurry && hurry()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  drain();
  wait_until_closed(clock::now() + deadline);
  if (auto left = open_connections(); left > 0) {
    log::warn("shutdown deadline passed with {} connections open; closing them", left);
    close_all();
    wait_until_closed(clock::now() + std::chrono::seconds(1));
  }
  stop();
}

void runtime::stop() {
  for (auto& s : shards_) s->context().stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace junction
