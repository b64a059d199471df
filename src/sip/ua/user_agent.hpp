#pragma once
// A SIP user agent (RFC 3261) as a pure state machine, like the rest of Junction's protocol
// cores: datagrams and commands in, datagrams and events out, the time passed in, and
// deadline() says when to call on_timer next. It registers one address of record (with digest
// authentication) and places or takes one call at a time. The gateway runs one per RTMP client
// (a "line"); rooms dialling out and the farm's node links run theirs.
//
// Its parts (this folder): agent_core (the transactions, in one sip::transaction_table, the
// requests it writes with sip::make_request, and the answers to 401/407 challenges, §22.2),
// registration_client (REGISTER, refreshes, unregistering) and invite_session (the dialog, §12:
// INVITE either way, CANCEL §9, the UAS's 2xx retransmission §13.3.1.4, re-INVITEs §14, BYE).
// user_agent puts them together behind one interface.
//
// Every request outside a dialog goes to the outbound proxy (the registrar of the user's
// domain: Junction itself for its own domains); in-dialog requests follow the route set.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sip/transaction.hpp"

namespace junction::sip::ua {

using clock = tx_clock;

struct settings {
  std::string user, domain, display_name;  // the address of record user@domain
  std::string auth_user, password;          // digest credentials (auth_user empty: user)
  std::string local_host;                   // this agent's socket, for Via and Contact
  std::uint16_t local_port = 0;
  std::string proxy_host;                   // the outbound proxy / registrar
  std::uint16_t proxy_port = 5060;
  std::uint32_t register_expires = 300;
  std::chrono::seconds ring_timeout{60};    // an unanswered outgoing call is cancelled
  timer_values timers;
  std::string user_agent = "junction";
};

// Where a datagram goes: an IP literal (names are the I/O layer's to resolve) and a port.
struct datagram {
  std::string bytes, host;
  std::uint16_t port = 0;
};

namespace event {
struct registered { std::uint32_t expires = 0; };
struct registration_failed { int status = 0; std::string reason; };
struct unregistered {};
struct invited { std::string from, to, sdp; };           // an incoming call rings here
struct ringing { int status = 0; std::string reason; };  // our call: 18x
struct answered { std::string sdp; };                    // our call: 2xx (ACK sent)
struct confirmed {};                                     // their call: our 2xx was ACKed
struct rejected { int status = 0; std::string reason; }; // our call failed (or timed out)
struct cancelled { std::string from, to; };              // their call was withdrawn
struct ended { std::string why; };                       // BYE from the peer, or lost
struct reoffered { std::string sdp; };                   // a re-INVITE's offer: answer_reoffer() answers it
struct reanswered { std::string sdp; };                  // our re-INVITE was accepted (ACK sent)
struct reinvite_failed { int status = 0; std::string reason; };  // our re-INVITE was refused; the session is as before
}  // namespace event

using event_t = std::variant<event::registered, event::registration_failed, event::unregistered, event::invited,
                             event::ringing, event::answered, event::confirmed, event::rejected, event::cancelled,
                             event::ended, event::reoffered, event::reanswered, event::reinvite_failed>;

// idle; calling: ours, not answered yet; ringing: theirs, not accepted yet; confirmed: up.
enum class call_state { idle, calling, ringing, confirmed };

class agent_core;
class registration_client;
class invite_session;

class user_agent {
 public:
  user_agent(settings s, std::uint64_t seed);
  ~user_agent();
  user_agent(const user_agent&) = delete;
  user_agent& operator=(const user_agent&) = delete;

  // Registration: REGISTER now and refreshes at half the granted time; unregister sends
  // Expires: 0 (an unregistered event follows its answer).
  void start_registration(clock::time_point now);
  void unregister(clock::time_point now);
  bool registered() const noexcept;

  // An outgoing call to `target` ("user@domain", "sip:user@domain" or a bare user of this
  // domain) offering `sdp`. False (nothing sent) when a call is already up or the target does
  // not parse.
  bool invite(std::string_view target, std::string sdp, clock::time_point now);
  // The incoming call: answered with `sdp`, or refused with a final status.
  bool accept(std::string sdp, clock::time_point now);
  bool reject(int status, std::string_view reason, clock::time_point now);
  // A new offer for the call that is up (a re-INVITE: hold, resume). False when no call is up or
  // an offer is already on its way either way (RFC 3261 §14.1).
  bool reinvite(std::string sdp, clock::time_point now);
  // Answers the re-INVITE of the last reoffered event: 200 with `sdp` (sent again until ACKed),
  // or a failure status (488 for an offer that cannot be taken); the session stays as before.
  bool answer_reoffer(int status, std::string sdp, clock::time_point now);
  // Ends whatever call there is: CANCEL while ours rings, 603 while theirs does, BYE once up.
  void hang_up(clock::time_point now);
  call_state state() const noexcept;
  const std::string& remote_sdp() const noexcept;
  const std::string& local_sdp() const noexcept;  // our side of the session in force
  std::string call_id() const;
  std::string peer() const;  // the other party's address (From or To URI)

  void on_datagram(std::string_view bytes, std::string_view from_host, std::uint16_t from_port,
                   clock::time_point now);
  void on_timer(clock::time_point now);
  std::optional<clock::time_point> deadline() const;

  std::vector<datagram> take_output();
  std::vector<event_t> take_events();

  // Transactions held (for metrics and tests: zero once everything ended).
  std::size_t transactions() const noexcept;

 private:
  std::unique_ptr<agent_core> core_;
  std::unique_ptr<registration_client> registration_;
  std::unique_ptr<invite_session> session_;
};

}  // namespace junction::sip::ua
