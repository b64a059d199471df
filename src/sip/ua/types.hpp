#pragma once
// What the parts of a SIP user agent (user_agent.hpp) share with their users: its settings, the
// datagrams it sends, the events it raises and the state of its call.
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

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

}  // namespace junction::sip::ua
