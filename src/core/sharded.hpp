#pragma once
// A service with one instance per shard, as Seastar's sharded<T>: instance i belongs to shard i
// and is touched only by that shard's thread once the shards run. What would otherwise be a
// hand-written vector of per-shard states plus posts:
//
//   sharded<cache> caches(rt);                          // one cache per shard, made now
//   caches.local().find(...);                           // on a shard: its own instance
//   caches.invoke_on(3, [](cache& c) { c.clear(); });   // posted to shard 3
//   caches.invoke_on_all([](cache& c) { c.clear(); });  // posted to every shard
//   auto n = co_await caches.ask(3, [](cache& c) { return c.size(); });  // and the answer back
//   caches.stop();                                      // destroyed, shard by shard
//
// stop() says in code when the instances go: the owner calls it after the shards have stopped
// (and before anything the instances refer to goes), in the order services depend on each
// other. The destructor stops what stop() was not called for.
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/cross_shard.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"

namespace junction {

template <class T>
class sharded {
 public:
  // One T per shard: T(shard&, args...) or T(args..., shard&) when T takes its shard, else
  // T(args...).
  template <class... Args>
  explicit sharded(runtime& rt, Args&&... args) : rt_(rt) {
    instances_.reserve(rt.size());
    for (unsigned i = 0; i < rt.size(); ++i) {
      if constexpr (std::is_constructible_v<T, shard&, Args&...>)
        instances_.push_back(std::make_unique<T>(rt.at(i), args...));
      else if constexpr (std::is_constructible_v<T, Args&..., shard&>)
        instances_.push_back(std::make_unique<T>(args..., rt.at(i)));
      else
        instances_.push_back(std::make_unique<T>(args...));
    }
  }
  ~sharded() { stop(); }
  sharded(const sharded&) = delete;
  sharded& operator=(const sharded&) = delete;

  std::size_t size() const noexcept { return instances_.size(); }
  bool stopped() const noexcept { return instances_.empty(); }

  // The calling shard's instance.
  T& local() { return *instances_[shard::current()->index()]; }  // on a hot path: no bounds check
  // Shard i's instance: for its own thread, or before the shards run or after they stopped.
  T& at(unsigned i) { return *instances_.at(i); }
  const T& at(unsigned i) const { return *instances_.at(i); }

  // Runs f(instance) on shard i's thread.
  template <class F>
  void invoke_on(unsigned i, F f) {
    rt_.post(i, [instance = instances_.at(i).get(), f = std::move(f)]() mutable { f(*instance); });
  }
  // Runs f(instance) on every shard's thread.
  template <class F>
  void invoke_on_all(const F& f) {
    for (unsigned i = 0; i < instances_.size(); ++i) invoke_on(i, f);
  }
  // From a coroutine: f(instance) on shard i, its result back on the caller's shard. The rule of
  // invoke_on (core/cross_shard.hpp) holds: f captures only pointers, references and plain values.
  template <class F>
  auto ask(unsigned i, F f) -> boost::asio::awaitable<std::invoke_result_t<F&, T&>> {
    co_return co_await junction::invoke_on(rt_.at(i), [instance = instances_.at(i).get(), f]() mutable {
      return f(*instance);
    });
  }

  // Destroys the instances, last shard first. Call after the shards stopped.
  void stop() {
    while (!instances_.empty()) instances_.pop_back();
  }

 private:
  runtime& rt_;
  std::vector<std::unique_ptr<T>> instances_;
};

}  // namespace junction
