#pragma once
// Bridging a call's media where its two sides cannot meet as they are: a browser (WebRTC: ICE,
// DTLS-SRTP, Opus, RTP/SAVPF) and a phone (plain RTP). The proxy asks for a bridge when the
// offer of a new INVITE is WebRTC and the branch's target is not on a WebSocket flow, or the other
// way round; the bridge (an app: src/sip_webrtc) terminates the WebRTC side on the shard's
// WebRTC port, speaks plain RTP to the phone and transcodes where the two have no codec in
// common. The proxy rewrites the bodies it forwards with what the bridge says, and routes the
// dialog's re-INVITEs and BYE to the shard that holds the bridge (as for anchored calls).
// Every call is on the shard that proxied its INVITE; nothing here is called from another.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace junction {
class shard;
}

namespace junction::sip {

class media_bridges {
 public:
  virtual ~media_bridges() = default;
  // The caller's offer as the callee should get it: a plain RTP offer for a WebRTC one when
  // `callee_webrtc` is false, a WebRTC offer for a plain one when true. Nothing when this offer
  // cannot be bridged (then the branch gets the offer as it was).
  virtual std::optional<std::string> bridge_offer(const std::string& call_id, std::string_view caller_tag,
                                                  std::string_view offer, bool callee_webrtc) = 0;
  // The callee's answer (in a 18x or the 2xx: `status`) as the caller should get it; nothing
  // when it cannot be bridged (the bridge then ends, and the caller gets it as it was).
  virtual std::optional<std::string> bridge_answer(const std::string& call_id, std::string_view answer,
                                                   int status) = 0;
  // A re-INVITE of a bridged call: its offer from either side (its From tag says which) as the
  // other side should get it, and the answer to it as the offerer should get it.
  virtual std::optional<std::string> bridge_reoffer(const std::string& call_id, std::string_view from_tag,
                                                    std::string_view offer) = 0;
  virtual std::optional<std::string> bridge_reanswer(const std::string& call_id, std::string_view offerer_tag,
                                                     std::string_view answer) = 0;
  virtual bool bridges(const std::string& call_id) const = 0;
  // The call ended (BYE, the INVITE failed, or another branch answered).
  virtual void end(const std::string& call_id) = 0;
};

// Makes the bridges of one shard (called once per shard before the shards run).
using media_bridge_factory = std::function<std::unique_ptr<media_bridges>(junction::shard&)>;

// Whether an SDP body describes WebRTC media: an RTP section over DTLS (UDP/TLS/RTP/SAVP[F]).
bool is_webrtc_description(std::string_view sdp) noexcept;

}  // namespace junction::sip
