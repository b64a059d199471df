#pragma once
// One peer's ICE, the lite way (RFC 8445 §2.5): Junction has public addresses, so it gathers no
// candidates but its own, sends no checks and is always the controlled agent. This answers the
// peer's connectivity checks (Binding requests under the local ICE password), learns which of
// the peer's addresses are proven (a 5-tuple a check came from), takes the pair the controlling
// peer nominates as the path media goes on, and tells when the peer's consent (its checks, RFC
// 7675: at least one every 30 s) has lapsed. Sans-IO: a STUN message, its source and the time in;
// a reply to send back and what changed out.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "webrtc/stun.hpp"

namespace junction::webrtc {

struct ice_credentials {
  std::string ufrag;
  std::string pwd;
};

// A fresh ufrag (8 characters) and password (24 characters) from ice-chars (RFC 8839 §5.4).
ice_credentials new_ice_credentials();

class ice_lite_agent {
 public:
  using clock = std::chrono::steady_clock;
  using endpoint = boost::asio::ip::udp::endpoint;

  // RFC 7675 §5.1: consent ends 30 s after the last check that succeeded. A peer that never
  // checks at all gets as long from the start.
  static constexpr std::chrono::seconds consent_lifetime{30};

  // `remote_ufrag` from the peer's SDP; empty when it is not known yet (then any is taken).
  ice_lite_agent(ice_credentials local, std::string remote_ufrag, clock::time_point now);

  enum class outcome {
    ignored,    // not a Binding request, or a corrupt one: nothing to send (RFC 8489 §6.3)
    refused,    // answered with an error (400, 401, 420, 487)
    answered,   // a valid check: answered with success
  };
  struct result {
    outcome what = outcome::ignored;
    std::vector<std::uint8_t> reply;  // to send back to where the check came from
    bool nominated = false;           // selected() changed to this check's source
  };
  result on_stun(const stun::message_view& check, const endpoint& from, clock::time_point now);

  const ice_credentials& local() const noexcept { return local_; }
  void set_remote_ufrag(std::string ufrag) { remote_ufrag_ = std::move(ufrag); }
  // Where media goes: the nominated pair's remote address (nothing until a nomination).
  const std::optional<endpoint>& selected() const noexcept { return selected_; }
  // Has a valid check come from `from`? (Media and DTLS from any other address are not the peer's.)
  bool proven(const endpoint& from) const noexcept;
  bool consent_expired(clock::time_point now) const noexcept { return now >= consent_deadline(); }
  clock::time_point consent_deadline() const noexcept { return last_valid_ + consent_lifetime; }

  struct counters {
    std::uint64_t answered = 0, unauthorized = 0, bad_requests = 0, role_conflicts = 0;
  };
  const counters& stats() const noexcept { return stats_; }

 private:
  std::vector<std::uint8_t> error_reply(const stun::message_view& check, int code, std::string_view reason,
                                        bool with_integrity, std::span<const std::uint16_t> unknown = {});

  ice_credentials local_;
  std::string remote_ufrag_;
  clock::time_point last_valid_;
  std::optional<endpoint> selected_;
  std::uint32_t selected_priority_ = 0;
  std::vector<endpoint> proven_;  // a handful: a peer's host, srflx and relay candidates
  counters stats_;
};

}  // namespace junction::webrtc
