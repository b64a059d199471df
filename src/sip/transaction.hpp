#pragma once
// SIP transactions (RFC 3261 §17, with RFC 6026's Accepted state) as sans-IO state machines.
// A transaction never touches a socket or a clock: it is told when something arrives and what
// time it is, and answers with what to send and when it next wants to be woken (deadline()).
// The owner keeps the peer's address and the timer; bytes are shared, so a retransmission
// sends the very buffer the first send did.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace junction::sip {

using tx_clock = std::chrono::steady_clock;
using shared_bytes = std::shared_ptr<const std::string>;

struct timer_values {
  std::chrono::milliseconds t1{500};   // RTT estimate
  std::chrono::milliseconds t2{4000};  // longest retransmit interval for non-INVITE
  std::chrono::milliseconds t4{5000};  // how long a message may linger in the network
};

enum class tx_state { calling, trying, proceeding, accepted, completed, confirmed, terminated };

struct tx_effects {
  std::vector<shared_bytes> send;  // to the transaction's peer, in order
  bool timed_out = false;          // client: B/F fired (the TU sees a 408); server: H fired
};

// The server side (§17.2): absorbs retransmitted requests by resending its last response.
class server_transaction {
 public:
  server_transaction(bool invite, bool reliable, const timer_values& timers);

  bool invite() const noexcept { return invite_; }
  tx_state state() const noexcept { return state_; }
  int last_status() const noexcept { return last_status_; }
  std::optional<tx_clock::time_point> deadline() const noexcept;
  // True when deadline() is a retransmission (Timer A, E or G), which is due on time; otherwise
  // it ends the transaction (a timeout, or the wait for stray retransmissions), which may be late.
  bool deadline_resends() const noexcept { return resend_at_ && (!end_at_ || *resend_at_ <= *end_at_); }

  // The request again (a retransmission matched to this transaction).
  tx_effects on_retransmission();
  // An ACK matched to this INVITE transaction (the ACK of a non-2xx final response).
  tx_effects on_ack(tx_clock::time_point now);
  // The TU's response; ignored (nothing sent) once a final response went out, except further
  // 2xx of an INVITE in Accepted (forking proxies relay every 2xx, RFC 6026 §7.1).
  tx_effects respond(int status, shared_bytes bytes, tx_clock::time_point now);
  tx_effects on_timer(tx_clock::time_point now);

 private:
  bool invite_, reliable_;
  timer_values timers_;
  tx_state state_;
  int last_status_ = 0;
  shared_bytes last_;
  std::chrono::milliseconds interval_{};
  std::optional<tx_clock::time_point> resend_at_, end_at_;
};

// The client side (§17.1): retransmits the request until a response, gives up with a timeout.
class client_transaction {
 public:
  client_transaction(bool invite, bool reliable, const timer_values& timers, shared_bytes request);

  bool invite() const noexcept { return invite_; }
  tx_state state() const noexcept { return state_; }
  std::optional<tx_clock::time_point> deadline() const noexcept;
  // True when deadline() is a retransmission (Timer A, E or G), which is due on time; otherwise
  // it ends the transaction (a timeout, or the wait for stray retransmissions), which may be late.
  bool deadline_resends() const noexcept { return resend_at_ && (!end_at_ || *resend_at_ <= *end_at_); }

  // Sends the request and starts the timers.
  tx_effects start(tx_clock::time_point now);

  struct response_effects {
    tx_effects effects;
    bool deliver = false;   // pass this response to the TU (retransmitted finals are not)
    bool needs_ack = false; // INVITE, first non-2xx final: call send_ack() with the ACK's bytes
  };
  response_effects on_response(int status, tx_clock::time_point now);
  // The ACK for a non-2xx final (§17.1.1.3), built by the owner; resent for every
  // retransmission of that final response.
  tx_effects send_ack(shared_bytes ack);
  tx_effects on_timer(tx_clock::time_point now);

 private:
  bool invite_, reliable_;
  timer_values timers_;
  tx_state state_;
  shared_bytes request_, ack_;
  std::chrono::milliseconds interval_{};
  std::optional<tx_clock::time_point> resend_at_, end_at_;
};

}  // namespace junction::sip
