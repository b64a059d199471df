#pragma once
// The mark this server puts on each Record-Route it adds (`;jr=<mac>`): an HMAC of the dialog's
// Call-ID under the server's secret. A request that names this server in its first Route may go
// on to another host only when that Route carries a valid mark for its Call-ID, i.e. when it
// belongs to a dialog this server itself record-routed. Without the mark, a Route naming this
// server would make it an open relay: anyone could bounce requests off it to any host
// (see router.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::sip {

inline constexpr std::string_view route_mark_param = "jr";
// The Record-Route parameter that names the shard relaying an anchored call's media
// (sip.anchor_media): the dialog's later requests (a re-INVITE from either side) are handled there.
inline constexpr std::string_view anchor_shard_param = "jrelay";

// The Record-Route parameter that names the flow (RFC 5626's word: a TCP, TLS or WebSocket
// connection) a dialog's requests reach one side over (`;jf=<flow id>.<mac>`). A dialog with a
// side on a flow gets two Record-Routes, one facing each side (RFC 5658); the one facing a flow
// carries it, so that in-dialog requests towards that side go over its connection (a TLS or
// WebSocket user agent can be reached no other way). The MAC binds the flow to the Call-ID.
inline constexpr std::string_view flow_param = "jf";
std::string make_flow_token(std::string_view secret, std::string_view call_id, std::uint64_t flow);
// The flow a token names, when its MAC is right for `call_id`; nothing otherwise.
std::optional<std::uint64_t> read_flow_token(std::string_view secret, std::string_view call_id,
                                             std::string_view token) noexcept;

// 32 lowercase hex digits (128 bits of HMAC-SHA256). Throws std::runtime_error if OpenSSL fails.
std::string make_route_mark(std::string_view secret, std::string_view call_id);
// Constant time; false for anything malformed.
bool route_mark_valid(std::string_view secret, std::string_view call_id, std::string_view mark) noexcept;

}  // namespace junction::sip
