#pragma once
// One Via element (RFC 3261 §20.42, §18.2.1; RFC 3581 rport): where a response goes back to.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/syntax.hpp"

namespace junction::sip {

// RFC 3261 §8.1.1.7: a branch starting with this was made by an RFC 3261 element and is unique;
// anything else is matched the RFC 2543 way (RFC 4475 §3.2.1).
inline constexpr std::string_view branch_cookie = "z9hG4bK";

struct via {
  std::string_view transport;  // "UDP", "TCP", "TLS", "WS", "WSS", "SCTP" or anything else
  std::string_view host;
  std::uint16_t port = 0;      // 0 = none given
  param_list params;
  std::string_view text;

  std::string_view branch() const noexcept { return params.value("branch"); }
  bool has_cookie() const noexcept { return branch().starts_with(branch_cookie); }
};

// The Via a server hands back with its response (RFC 3261 §18.2.1, RFC 3581 §4): `received`
// with the source address when it differs from the sent-by host (or when rport asks for it),
// and `rport` filled with the source port when the client asked for it.
std::string stamp_via(const via& v, std::string_view source_ip, std::uint16_t source_port);

// `SIP / 2.0 / transport sent-by *(; via-params)`, with the whitespace RFC 3261 allows around
// '/' ';' '=' (RFC 4475 §3.1.1.1). Nothing when malformed (§3.1.2.1: empty params).
std::optional<via> parse_via(std::string_view element) noexcept;

}  // namespace junction::sip
