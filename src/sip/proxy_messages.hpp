#pragma once
// The messages a stateful proxy makes itself (RFC 3261 §16, §17.1.1.3, §9.1), and its branch
// identifiers. Pure functions over parsed messages.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace junction::sip {

// "z9hG4bK-j<shard>-<unique>": the magic cookie (RFC 3261 §8.1.1.7), then which shard holds the
// client transaction, so that a response arriving on any shard finds its way home.
std::string make_branch(unsigned shard, std::uint64_t unique);
std::optional<unsigned> shard_of_branch(std::string_view branch) noexcept;

// The server-transaction key (RFC 3261 §17.2.3): branch, sent-by and method, ACK and CANCEL
// counting as... ACK as the INVITE it acknowledges. Requests from RFC 2543 elements (no magic
// cookie) are keyed by what identifies them instead (RFC 4475 §3.2.1).
std::string server_key(const message& request, std::string_view method_override = {});
// The client-transaction key of a response: its top Via branch and CSeq method (§17.1.3).
std::string client_key(std::string_view branch, std::string_view method);

// The ACK for a non-2xx final response to an INVITE this proxy sent (§17.1.1.3): the INVITE's
// Request-URI, top Via, From, Call-ID, CSeq number and Route set, and the response's To.
std::string make_ack(const message& sent_invite, const message& response);
// A CANCEL for an INVITE this proxy sent (§9.1): same Request-URI, top Via, From, To, Call-ID,
// CSeq number and Route set.
std::string make_cancel(const message& sent_invite);

// Which of two final responses a forking proxy forwards (§16.7 step 6): any 6xx, else the
// lowest class; the first one seen wins a tie.
bool better_final(int candidate, int best) noexcept;

}  // namespace junction::sip
