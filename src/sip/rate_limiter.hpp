#pragma once
// Per-source datagram budget: a UDP flood from one address is dropped (and counted) after
// `per_second` datagrams in a one-second window, so one misbehaving peer cannot take a shard's
// time from everyone else. Per shard, no locks; told the time by its caller.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace junction::sip {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  explicit rate_limiter(unsigned per_second, std::size_t max_sources = 100'000)
      : per_second_(per_second), max_sources_(max_sources) {}

  // True when a datagram from `source` may be processed now.
  bool allow(std::string_view source, clock::time_point now);
  std::size_t sources() const noexcept { return windows_.size(); }

 private:
  struct window {
    clock::time_point start;
    unsigned count = 0;
  };
  void forget_idle(clock::time_point now);

  unsigned per_second_;
  std::size_t max_sources_;
  std::unordered_map<std::string, window> windows_;
  clock::time_point last_sweep_{};
};

}  // namespace junction::sip
