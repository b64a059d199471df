#pragma once
// The registration of a user agent's address of record (RFC 3261 §10.2): REGISTER with our
// Contact, the answer to a digest challenge, refreshes at half the granted time, and Expires: 0
// to unregister. Part of user_agent (user_agent.hpp); sans-IO like it.
#include <cstdint>
#include <optional>
#include <string>

#include "sip/ua/agent_core.hpp"

namespace junction::sip::ua {

class registration_client {
 public:
  explicit registration_client(agent_core& core);

  void start(clock::time_point now);
  void unregister(clock::time_point now);
  bool registered() const noexcept { return registered_; }

  // The final answer to one of our REGISTERs (purpose registration or unregistration).
  void on_response(client_entry& c, const message& response, clock::time_point now);
  void on_timeout(const client_entry& c);
  void on_timer(clock::time_point now);
  std::optional<clock::time_point> deadline() const noexcept;

 private:
  void send(std::uint32_t expires, clock::time_point now);

  agent_core& core_;
  std::string call_id_;  // one Call-ID for all our REGISTERs (§10.2.4), CSeq counting up
  std::uint32_t cseq_ = 0;
  bool registered_ = false, unregistering_ = false;
  std::optional<clock::time_point> refresh_at_;
};

}  // namespace junction::sip::ua
