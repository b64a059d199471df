#pragma once
// The registrar (RFC 3261 §10.3) at the message level: checks a REGISTER, turns its Contacts
// into location-table updates and writes the response. Authentication happens before this (the
// caller answers 401 itself); everything else about REGISTER is here.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/location.hpp"
#include "sip/message.hpp"

namespace junction::sip {

struct register_context {
  std::string_view to_tag{};        // for the response's To
  std::string_view source{};        // "udp 192.0.2.1:5060": where the REGISTER came from
  std::uint64_t flow = 0;
  std::string_view server_header{}; // empty: none
  sip_clock::time_point now{};
  std::chrono::system_clock::time_point wall_time{};
};

// The address-of-record a URI names, in the form the location table keys on: "sip:user@host",
// user unescaped, host lowercase, no port or parameters (RFC 3261 §10.3 step 5). Nothing for
// URIs that are not sip/sips or have no user part.
std::optional<std::string> canonical_aor(const uri& u);

// The AOR is one of this server's users when its host is one of `domains` (compared
// case-insensitively).
bool is_local_domain(std::string_view host, const std::vector<std::string>& domains) noexcept;

// Handles a well-formed REGISTER whose Request-URI is a local domain; returns the response.
std::string handle_register(location_table& table, const message& request,
                            const std::vector<std::string>& domains, const register_context& ctx);

}  // namespace junction::sip
