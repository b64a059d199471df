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
// user_agent owns the parts, feeds them datagrams and time, and hands each answer to the part
// that asked; its users call registration() and call() for the rest.
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

#include "sip/ua/invite_session.hpp"
#include "sip/ua/registration_client.hpp"
#include "sip/ua/types.hpp"

namespace junction::sip::ua {

class agent_core;

class user_agent {
 public:
  user_agent(settings s, std::uint64_t seed);
  ~user_agent();
  user_agent(const user_agent&) = delete;
  user_agent& operator=(const user_agent&) = delete;

  // The registration (REGISTER now, refreshes at half the granted time, Expires: 0 to
  // unregister: registration_client.hpp) and the one call (invite_session.hpp).
  registration_client& registration() noexcept { return *registration_; }
  const registration_client& registration() const noexcept { return *registration_; }
  invite_session& call() noexcept { return *session_; }
  const invite_session& call() const noexcept { return *session_; }

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
