#pragma once
// The mark this server puts on each Record-Route it adds (`;jr=<mac>`): an HMAC of the dialog's
// Call-ID under the server's secret. A request that names this server in its first Route may go
// on to another host only when that Route carries a valid mark for its Call-ID, i.e. when it
// belongs to a dialog this server itself record-routed. Without the mark, a Route naming this
// server would make it an open relay: anyone could bounce requests off it to any host
// (see router.cpp).
#include <string>
#include <string_view>

namespace junction::sip {

inline constexpr std::string_view route_mark_param = "jr";
// The Record-Route parameter that names the shard relaying an anchored call's media
// (sip.anchor_media): the dialog's later requests (a re-INVITE from either side) are handled there.
inline constexpr std::string_view anchor_shard_param = "jrelay";

// 32 lowercase hex digits (128 bits of HMAC-SHA256). Throws std::runtime_error if OpenSSL fails.
std::string make_route_mark(std::string_view secret, std::string_view call_id);
// Constant time; false for anything malformed.
bool route_mark_valid(std::string_view secret, std::string_view call_id, std::string_view mark) noexcept;

}  // namespace junction::sip
