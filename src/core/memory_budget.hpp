#pragma once
// Bytes that peers make the server hold, counted across every shard against one limit: what
// stops many connections, each within its own limit, from adding up to all of the memory
// (partial RTMP messages, for one). Taken when a buffer grows, given back when it is freed:
// rare events next to the bytes they count, so one shared atomic is cheap enough.
#include <atomic>
#include <cstddef>

namespace junction {

class memory_budget {
 public:
  explicit memory_budget(std::size_t limit) noexcept : limit_{limit} {}
  memory_budget(const memory_budget&) = delete;
  memory_budget& operator=(const memory_budget&) = delete;

  // False (and nothing taken) when `n` more would pass the limit. A limit of 0: no limit.
  bool try_take(std::size_t n) noexcept {
    auto before = used_.fetch_add(n, std::memory_order_relaxed);
    if (limit_ == 0 || before + n <= limit_) return true;
    used_.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }
  void give_back(std::size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace junction
