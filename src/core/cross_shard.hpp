#pragma once
// Asking another shard for something from a coroutine: `co_await invoke_on(target, fn)` runs fn on
// the target shard's thread and resumes the caller on its own executor with fn's result.
// GCC 12 destroys a coroutine's by-value parameters twice when they own memory: give invoke_on
// functions that capture only pointers, references and plain values (no strings, no vectors).
#include "core/shard.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

namespace junction {

template <class F>
auto invoke_on(shard& target, F fn) -> boost::asio::awaitable<std::invoke_result_t<F&>> {
  using result = std::invoke_result_t<F&>;
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                 void(result)>(
      [&target, fn = std::move(fn)](auto handler) mutable {
        auto home = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        boost::asio::post(target.context(), [fn = std::move(fn), handler = std::move(handler),
                                             home = std::move(home)]() mutable {
          auto value = fn();
          auto executor = home.get_executor();
          boost::asio::post(executor, [handler = std::move(handler),
                                       value = std::move(value)]() mutable {
            std::move(handler)(std::move(value));
          });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace junction
