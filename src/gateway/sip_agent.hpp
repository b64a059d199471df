#pragma once
// The SIP user agent the gateway runs for one RTMP client (one "line"): it registers the user
// (with digest authentication), places one call or takes one, and ends it. A pure state machine
// like the rest of Junction's protocol cores: datagrams and commands in, datagrams and events
// out, the time passed in, and deadline() says when to call on_timer next. Transactions are
// sip::client_transaction / server_transaction; the agent adds the dialog (RFC 3261 §12), the
// UAS's 2xx retransmission (§13.3.1.4), CANCEL (§9) and answers to 401/407 challenges (§22.2).
//
// Every request outside a dialog goes to the outbound proxy (the registrar of the user's
// domain: Junction itself for its own domains); in-dialog requests follow the route set.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sip/transaction.hpp"

namespace junction::sip {
class message;
}

namespace junction::gateway {

using agent_clock = sip::tx_clock;

struct agent_settings {
  std::string user, domain, display_name;  // the address of record user@domain
  std::string auth_user, password;          // digest credentials (auth_user empty: user)
  std::string local_host;                   // this agent's socket, for Via and Contact
  std::uint16_t local_port = 0;
  std::string proxy_host;                   // the outbound proxy / registrar
  std::uint16_t proxy_port = 5060;
  std::uint32_t register_expires = 300;
  std::chrono::seconds ring_timeout{60};    // an unanswered outgoing call is cancelled
  sip::timer_values timers;
  std::string user_agent = "junction-gateway";
};

// Where a datagram goes: an IP literal (names are the I/O layer's to resolve) and a port.
struct datagram {
  std::string bytes, host;
  std::uint16_t port = 0;
};

namespace agent_event {
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
}  // namespace agent_event

using agent_event_t =
    std::variant<agent_event::registered, agent_event::registration_failed, agent_event::unregistered,
                 agent_event::invited, agent_event::ringing, agent_event::answered, agent_event::confirmed,
                 agent_event::rejected, agent_event::cancelled, agent_event::ended, agent_event::reoffered,
                 agent_event::reanswered, agent_event::reinvite_failed>;

// idle; calling: ours, not answered yet; ringing: theirs, not accepted yet; confirmed: up.
enum class call_state { idle, calling, ringing, confirmed };

class sip_agent {
 public:
  sip_agent(agent_settings settings, std::uint64_t seed);
  ~sip_agent();
  sip_agent(const sip_agent&) = delete;
  sip_agent& operator=(const sip_agent&) = delete;

  // Registration: REGISTER now and refreshes at half the granted time; unregister sends
  // Expires: 0 (an unregistered event follows its answer).
  void start_registration(agent_clock::time_point now);
  void unregister(agent_clock::time_point now);
  bool registered() const noexcept { return registered_; }

  // An outgoing call to `target` ("user@domain", "sip:user@domain" or a bare user of this
  // domain) offering `sdp`. False (nothing sent) when a call is already up or the target does
  // not parse.
  bool invite(std::string_view target, std::string sdp, agent_clock::time_point now);
  // The incoming call: answered with `sdp`, or refused with a final status.
  bool accept(std::string sdp, agent_clock::time_point now);
  bool reject(int status, std::string_view reason, agent_clock::time_point now);
  // A new offer for the call that is up (a re-INVITE: hold, resume). False when no call is up or
  // an offer is already on its way either way (RFC 3261 §14.1).
  bool reinvite(std::string sdp, agent_clock::time_point now);
  // Answers the re-INVITE of the last reoffered event: 200 with `sdp` (sent again until ACKed),
  // or a failure status (488 for an offer that cannot be taken); the session stays as before.
  bool answer_reoffer(int status, std::string sdp, agent_clock::time_point now);
  // Ends whatever call there is: CANCEL while ours rings, 603 while theirs does, BYE once up.
  void hang_up(agent_clock::time_point now);
  call_state state() const noexcept;
  const std::string& remote_sdp() const noexcept;
  const std::string& local_sdp() const noexcept;  // our side of the session in force
  std::string call_id() const;
  std::string peer() const;  // the other party's address (From or To URI)

  void on_datagram(std::string_view bytes, std::string_view from_host, std::uint16_t from_port,
                   agent_clock::time_point now);
  void on_timer(agent_clock::time_point now);
  std::optional<agent_clock::time_point> deadline() const;

  std::vector<datagram> take_output();
  std::vector<agent_event_t> take_events();

  // Transactions and dialogs held (for metrics and tests: zero once everything ended).
  std::size_t transactions() const noexcept;

 private:
  struct client_entry;
  struct server_entry;
  struct dialog;
  enum class purpose { registration, unregistration, invite, reinvite, cancel, bye, other };

  std::string new_token(std::size_t hex_digits);
  std::string aor() const;
  std::string contact() const;
  std::string via(const std::string& branch) const;
  client_entry& send_request(purpose why, std::string method, std::string request_uri, std::string headers,
                    std::string content_type, std::string body, std::string host, std::uint16_t port,
                    agent_clock::time_point now);
  void send_register(std::uint32_t expires, const std::string& authorization, agent_clock::time_point now);
  void send_in_dialog(purpose why, std::string_view method, const std::string& body,
                      agent_clock::time_point now);
  void send_ack_2xx(agent_clock::time_point now);
  void send_cancel(const client_entry& invite, agent_clock::time_point now);
  void emit_effects(const sip::tx_effects& effects, const std::string& host, std::uint16_t port);
  void on_response(const sip::message& response, agent_clock::time_point now);
  void on_request(const sip::message& request, std::string_view host, std::uint16_t port,
                  agent_clock::time_point now);
  void on_invite_response(client_entry& c, const sip::message& response, agent_clock::time_point now);
  void on_reinvite_response(client_entry& c, const sip::message& response, agent_clock::time_point now);
  void on_reinvite(const sip::message& request, const std::string& key, std::string_view host, std::uint16_t port,
                   agent_clock::time_point now);
  // Our 200 to an INVITE: sent through its server transaction, then again until the ACK.
  void send_2xx(const std::string& key, std::string bytes, agent_clock::time_point now);
  // The dialog ends at once because it is gone on the other side (481, 408): a BYE to be sure.
  void drop_call(std::string why, agent_clock::time_point now);
  void on_register_response(client_entry& c, const sip::message& response, agent_clock::time_point now);
  // Answers a 401/407 by sending the request again with credentials. False when it cannot.
  bool retry_with_credentials(client_entry& c, const sip::message& response, agent_clock::time_point now);
  void respond(const sip::message& request, int status, std::string_view host, std::uint16_t port,
               agent_clock::time_point now, std::string_view reason = {}, std::string_view body = {});
  void end_call(agent_clock::time_point now);

  agent_settings s_;
  std::mt19937_64 random_;
  std::vector<datagram> out_;
  std::vector<agent_event_t> events_;
  std::map<std::string, client_entry> clients_;  // by branch + method
  std::map<std::string, server_entry> servers_;  // by branch + method
  std::unique_ptr<dialog> call_;

  // Registration.
  std::string register_call_id_;
  std::uint32_t register_cseq_ = 0;
  bool registered_ = false, unregistering_ = false;
  std::optional<agent_clock::time_point> refresh_at_;
  std::uint32_t nonce_count_ = 0;
};

}  // namespace junction::gateway
