#pragma once
// Slows password guessing (SIP digest, XMPP SASL, the gateway's logins): failed attempts are
// counted per key (a source address, a user).
// Once a key has had `allowed` failures, each further failure locks it out for a delay that
// doubles each time (base_delay, 2 x base_delay, ... up to max_delay). While locked out, an
// attempt is refused (SIP: 403 with Retry-After) before its credentials are even checked, so a guesser
// learns nothing and the user store is spared. A key with no failure for `forget_after` starts
// over; a user's success clears the user's count. Per shard, no locks; told the time.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace junction::users {

class auth_throttle {
 public:
  using clock = std::chrono::steady_clock;
  struct settings {
    unsigned allowed = 5;
    std::chrono::seconds base_delay{1};
    std::chrono::seconds max_delay{300};
    std::chrono::seconds forget_after{600};
    std::size_t max_keys = 100'000;  // a flood of new keys is forgotten rather than stored
  };
  explicit auth_throttle(settings s) : settings_{s} {}

  // How long `key` stays locked out from `now`, rounded up to whole seconds; 0 when it is not.
  std::chrono::seconds locked_for(std::string_view key, clock::time_point now) const;
  // Counts a failure; true when it locked the key out.
  bool failed(std::string_view key, clock::time_point now);
  void succeeded(std::string_view key) { entries_.erase(std::string{key}); }
  std::size_t keys() const noexcept { return entries_.size(); }

 private:
  struct entry {
    unsigned failures = 0;
    clock::time_point last_failure{};
    clock::time_point locked_until{};
  };
  void forget_old(clock::time_point now);

  settings settings_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace junction::users
