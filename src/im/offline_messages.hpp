#pragma once
// Messages for users who are not there, kept until they come back and then delivered (store
// and forward): SIP MESSAGE requests (RFC 3428) for an AOR with no registration, XMPP messages
// (RFC 6121 §8.5.2.2) for an account with no available resource. In memory, on the user's home
// shard, bounded per user and per shard; each server writes them through to the user store's
// mailbox so that a restart keeps them. Keys name the protocol: "sip:bob@example.com",
// "xmpp:bob@example.com".
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace junction::im {

struct stored_message {
  std::string from;          // SIP: the From header value, as sent; XMPP: the sender's JID
  std::string to;            // SIP: the To header value, as sent; XMPP: the recipient's JID
  std::string content_type;  // XMPP: "application/xmpp+xml", the body being the stanza
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

}  // namespace junction::im
