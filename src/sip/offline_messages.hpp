#pragma once
// MESSAGE requests (RFC 3428) for users who are not registered, kept until they register again
// and then delivered (store and forward, as XMPP servers do for offline messages). In memory,
// on the AOR's home shard, bounded per user and per shard; the server writes them through to
// the user store so that a restart keeps them.
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace junction::sip {

struct stored_message {
  std::string from;          // the From header value, as sent
  std::string to;            // the To header value, as sent
  std::string content_type;
  std::string body;
  std::chrono::system_clock::time_point received;
};

struct offline_limits {
  std::size_t per_user = 100;              // messages waiting for one AOR
  std::size_t total_bytes = 16 << 20;      // bodies and headers waiting on one shard
  std::chrono::hours keep{24 * 7};         // older ones are dropped unread
};

class offline_messages {
 public:
  explicit offline_messages(offline_limits limits = {}) : limits_(limits) {}

  // False when the user's box or the shard's budget is full: the sender gets an error instead.
  bool store(std::string_view aor, stored_message m);
  // Everything waiting for `aor`, oldest first; the box is emptied. Expired ones are left out.
  std::vector<stored_message> take(std::string_view aor, std::chrono::system_clock::time_point now);
  // Puts messages back at the front (their delivery failed), within the limits.
  void give_back(std::string_view aor, std::vector<stored_message> messages);
  std::size_t purge(std::chrono::system_clock::time_point now);

  std::size_t waiting(std::string_view aor) const;
  std::size_t bytes() const noexcept { return bytes_; }
  const offline_limits& limits() const noexcept { return limits_; }

 private:
  static std::size_t size_of(const stored_message& m) {
    return m.from.size() + m.to.size() + m.content_type.size() + m.body.size();
  }
  offline_limits limits_;
  std::map<std::string, std::deque<stored_message>, std::less<>> boxes_;
  std::size_t bytes_ = 0;
};

}  // namespace junction::sip
