#pragma once
// The one call of a user agent (RFC 3261 §12-§15): an INVITE either way, its dialog (tags,
// route set, remote target, CSeq both ways), CANCEL while ours rings (§9.1), the UAS's 2xx sent
// again until the ACK (§13.3.1.4), re-INVITEs either way with glare (§14), BYE, and the
// in-dialog requests it answers. Part of user_agent (user_agent.hpp); sans-IO like it.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sip/ua/agent_core.hpp"

namespace junction::sip::ua {

class invite_session {
 public:
  explicit invite_session(agent_core& core);
  ~invite_session();

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

  // The final or provisional answer to our INVITE or re-INVITE (the client entry's purpose).
  void on_response(client_entry& c, const std::string& key, const message& response, clock::time_point now);
  // A response no transaction is waiting for: a 2xx sent again after the INVITE's transaction
  // ended, ACKed again.
  void on_stray_response(const message& response);
  // An ACK that no server transaction took: the ACK of our 2xx.
  void on_ack(const message& ack);
  // A new request (its server transaction is in the table under `key`).
  void on_request(const message& request, const std::string& key, std::string_view host, std::uint16_t port,
                  clock::time_point now);
  void on_timeout(const std::string& key, const client_entry& c, clock::time_point now);
  void on_timer(clock::time_point now);
  std::optional<clock::time_point> deadline() const noexcept;

  // Our tag for a response to `request`: the dialog's when it is the call's, else a fresh one.
  std::string tag_for(const message& request);

 private:
  struct dialog;
  request_spec in_dialog(std::string_view method);
  void send_in_dialog(purpose why, std::string_view method, const std::string& body, clock::time_point now);
  void send_ack_2xx();
  void on_invite_response(client_entry& c, const std::string& key, const message& response, clock::time_point now);
  void on_reinvite_response(client_entry& c, const message& response, clock::time_point now);
  void on_reinvite(const message& request, const std::string& key, std::string_view host, std::uint16_t port,
                   clock::time_point now);
  void on_new_invite(const message& request, const std::string& key, std::string_view host, std::uint16_t port,
                     clock::time_point now);
  // Our 200 to an INVITE: sent through its server transaction, then again until the ACK.
  void send_2xx(const std::string& key, std::string bytes, clock::time_point now);
  // The dialog ends at once because it is gone on the other side (481, 408): a BYE to be sure.
  void drop_call(std::string why, clock::time_point now);
  void respond(const message& request, int status, std::string_view host, std::uint16_t port, clock::time_point now,
               std::string_view reason = {});

  agent_core& core_;
  std::unique_ptr<dialog> call_;
};

}  // namespace junction::sip::ua
