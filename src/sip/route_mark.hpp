#pragma once
// The mark this server puts on each Record-Route it adds (`;jr=<mac>`): an HMAC of the dialog's
// Call-ID under the server's secret. A request that names this server in its first Route may go
// on to another host only when that Route carries a valid mark for its Call-ID, i.e. when it
// belongs to a dialog this server itself record-routed. Without the mark, a Route naming this
// server would make it an open relay: anyone could bounce requests off it to any host
// (see shard_service::forward_routed).
#include <string>
#include <string_view>

namespace junction::sip {

inline constexpr std::string_view route_mark_param = "jr";

// 32 lowercase hex digits (128 bits of HMAC-SHA256). Throws std::runtime_error if OpenSSL fails.
std::string make_route_mark(std::string_view secret, std::string_view call_id);
// Constant time; false for anything malformed.
bool route_mark_valid(std::string_view secret, std::string_view call_id, std::string_view mark) noexcept;

}  // namespace junction::sip
