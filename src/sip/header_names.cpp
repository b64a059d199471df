#include "sip/header_names.hpp"

#include <array>

#include "sip/syntax.hpp"

namespace junction::sip {
namespace {

struct header_entry {
  header_id id;
  std::string_view name;
  char compact;  // 0 when the header has none
  bool single;
};

constexpr std::array<header_entry, static_cast<std::size_t>(header_id::count_) - 1> entries{{
    {header_id::accept, "Accept", 0, false},
    {header_id::allow, "Allow", 0, false},
    {header_id::allow_events, "Allow-Events", 'u', false},  // RFC 6665
    {header_id::authorization, "Authorization", 0, false},
    {header_id::call_id, "Call-ID", 'i', true},
    {header_id::contact, "Contact", 'm', false},
    {header_id::content_disposition, "Content-Disposition", 0, true},
    {header_id::content_encoding, "Content-Encoding", 'e', false},
    {header_id::content_length, "Content-Length", 'l', true},
    {header_id::content_type, "Content-Type", 'c', true},
    {header_id::cseq, "CSeq", 0, true},
    {header_id::date, "Date", 0, true},
    {header_id::event, "Event", 'o', true},  // RFC 6665
    {header_id::expires, "Expires", 0, true},
    {header_id::from, "From", 'f', true},
    {header_id::max_forwards, "Max-Forwards", 0, true},
    {header_id::min_expires, "Min-Expires", 0, true},
    {header_id::path, "Path", 0, false},  // RFC 3327
    {header_id::proxy_authenticate, "Proxy-Authenticate", 0, false},
    {header_id::proxy_authorization, "Proxy-Authorization", 0, false},
    {header_id::proxy_require, "Proxy-Require", 0, false},
    {header_id::record_route, "Record-Route", 0, false},
    {header_id::require, "Require", 0, false},
    {header_id::route, "Route", 0, false},
    {header_id::server, "Server", 0, true},
    {header_id::sip_etag, "SIP-ETag", 0, true},          // RFC 3903
    {header_id::sip_if_match, "SIP-If-Match", 0, true},  // RFC 3903
    {header_id::subject, "Subject", 's', true},
    {header_id::subscription_state, "Subscription-State", 0, true},  // RFC 6665
    {header_id::supported, "Supported", 'k', false},
    {header_id::to, "To", 't', true},
    {header_id::unsupported, "Unsupported", 0, false},
    {header_id::user_agent, "User-Agent", 0, true},
    {header_id::via, "Via", 'v', false},
    {header_id::www_authenticate, "WWW-Authenticate", 0, false},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (static_cast<std::size_t>(entries[i].id) != i + 1) return false;
  return true;
}
static_assert(in_enum_order(), "entries must follow header_id's order: entry_of indexes them");

const header_entry* entry_of(header_id id) noexcept {
  auto i = static_cast<std::size_t>(id);
  if (i == 0 || i > entries.size()) return nullptr;
  return &entries[i - 1];
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

header_id lookup_header(std::string_view name) noexcept {
  if (name.size() == 1) {
    char c = lower(name.front());
    for (const auto& e : entries)
      if (e.compact == c) return e.id;
    return header_id::other;
  }
  // Few enough entries that a scan filtered by length and first letter beats hashing.
  char first = lower(name.empty() ? '\0' : name.front());
  for (const auto& e : entries)
    if (e.name.size() == name.size() && lower(e.name.front()) == first && iequals(e.name, name))
      return e.id;
  return header_id::other;
}

std::string_view header_name(header_id id) noexcept {
  const header_entry* e = entry_of(id);
  return e ? e->name : std::string_view{};
}

bool is_single_valued(header_id id) noexcept {
  const header_entry* e = entry_of(id);
  return e && e->single;
}

}  // namespace junction::sip
