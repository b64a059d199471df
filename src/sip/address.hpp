#pragma once
// The address headers: From, To, Contact, Route, Record-Route, Path, Reply-To (RFC 3261 §20,
// `name-addr / addr-spec` followed by header parameters). One element, already split from its
// comma list.
#include <optional>
#include <string_view>

#include "sip/syntax.hpp"
#include "sip/uri.hpp"

namespace junction::sip {

struct address {
  std::string_view display;   // quoted (with its quotes) or a run of tokens; may be empty
  std::string_view uri_text;  // between '<' and '>', or the bare addr-spec
  bool bracketed = false;     // written as name-addr
  param_list params;          // header parameters: tag, expires, q, lr-free...
  bool star = false;          // "Contact: *" (REGISTER removing every binding)
  std::string_view text;      // the element as written

  std::string_view tag() const noexcept { return params.value("tag"); }
};

// Returns nothing when the element is malformed: an unclosed quote (RFC 4475 §3.1.2.6), a
// display name that is neither quoted nor tokens (§3.1.2.15), whitespace inside <> (§3.1.2.14),
// an addr-spec holding '?' or ',' that should have been bracketed (§3.1.2.13), or bad params.
// The URI itself is checked for shape only: any scheme is accepted here.
std::optional<address> parse_address(std::string_view element, bool allow_star = false) noexcept;

}  // namespace junction::sip
