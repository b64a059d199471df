#pragma once
// Worker threads for what must not run on a shard (docs/architecture.md): transcoding, the
// writes of recordings, the user store, file reads. Each worker is an event loop of its own, at a
// lower scheduling priority than the shards. A call's transcoders are given one worker for the
// call's life; its shard posts frames to that worker and the worker posts results back.
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace junction {

class worker_pool {
 public:
  // `threads` workers (0: one per core), each lowered to `nice` (0 keeps the caller's priority).
  explicit worker_pool(unsigned threads = 0, int nice = 10);
  ~worker_pool();  // stops
  // Ends the threads: queued jobs that have not started are dropped, and later posts are kept
  // but never run. assign/release/post stay safe to call.
  void stop();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  std::size_t size() const noexcept { return workers_.size(); }
  // The worker for a new call: the one with the fewest calls assigned and not released.
  std::size_t assign();
  void release(std::size_t worker);
  // Runs `job` on `worker`'s thread, after the jobs posted to it before.
  void post(std::size_t worker, std::function<void()> job);

 private:
  struct worker;
  std::vector<std::unique_ptr<worker>> workers_;
};

// From a coroutine on a shard: runs `fn` on `worker`'s thread and resumes the caller on its own
// executor with fn's result; an exception fn throws is thrown in the caller. The same rule as
// invoke_on (core/cross_shard.hpp): fn captures only pointers, references and plain values.
template <class F>
auto on_worker(worker_pool& pool, std::size_t worker, F fn) -> boost::asio::awaitable<std::invoke_result_t<F&>> {
  using result = std::invoke_result_t<F&>;
  using carried = std::conditional_t<std::is_void_v<result>, std::monostate, result>;
  using outcome = std::variant<carried, std::exception_ptr>;
  auto done = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(outcome)>(
      [&pool, worker, fn = std::move(fn)](auto completion) mutable {
        // The job runs as a std::function (copyable): the completion handler, which is not, is
        // held by a shared state the job refers to.
        using handler_type = decltype(completion);
        auto guard = boost::asio::make_work_guard(boost::asio::get_associated_executor(completion));
        using guard_type = decltype(guard);
        struct state {
          F fn;
          handler_type handler;
          guard_type home;
        };
        auto job = std::make_shared<state>(state{std::move(fn), std::move(completion), std::move(guard)});
        pool.post(worker, [job] {
          outcome value{std::exception_ptr{}};
          try {
            if constexpr (std::is_void_v<result>) {
              job->fn();
              value = carried{};
            } else {
              value = job->fn();
            }
          } catch (...) {
            value = std::current_exception();
          }
          auto executor = job->home.get_executor();
          boost::asio::post(executor, [job, value = std::move(value)]() mutable {
            std::move(job->handler)(std::move(value));
          });
        });
      },
      boost::asio::use_awaitable);
  if (auto* failure = std::get_if<std::exception_ptr>(&done)) std::rethrow_exception(*failure);
  if constexpr (!std::is_void_v<result>) co_return std::move(std::get<carried>(done));
}

}  // namespace junction
