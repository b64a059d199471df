#pragma once
// Media anchoring (sip.anchor_media): the proxy rewrites the SDP of the calls it forwards so that
// both phones send their RTP to Junction, which relays it to the other phone. Per medium two
// RTP endpoints (media/net/rtp_endpoint) on the shard that proxied the INVITE: one the callee sends to (named in the offer
// the callee gets), one the caller sends to (named in the answer the caller gets). Packets are
// relayed as they are (RTP and RTCP alike, SRTP too); each side is learnt from where its packets
// come from (symmetric RTP). A relay ends with the call's BYE, a failed INVITE, or when no packet
// came for the RTP timeout. A call can be tapped once answered (a recording sees its packets).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/metrics.hpp"

namespace junction {
class shard;
}

namespace junction::media::sdp {
struct session_description;
}

namespace junction::sip {

// Sees an anchored call's packets as they are relayed, on the relay's shard (to record the call).
class relay_tap {
 public:
  virtual ~relay_tap() = default;
  // One datagram (RTP or RTCP, as relayed) of the m= line `index`, from the caller or the callee.
  virtual void on_datagram(std::size_t index, bool from_caller, std::span<const std::uint8_t> datagram) = 0;
};

// An anchored call once answered: its parties and both descriptions as the phones wrote them.
struct answered_call {
  std::string call_id, caller, callee;  // the From and To URIs
  const media::sdp::session_description& offer;
  const media::sdp::session_description& answer;
};

// The tap for a call, or null when the call is not to be tapped. Called on the relay's shard.
using relay_tap_factory = std::function<std::unique_ptr<relay_tap>(const answered_call&)>;

struct relay_metrics {
  metric_id relays, packets;
  static relay_metrics declare(metric_registry& registry);
};

class media_relays {
 public:
  media_relays(junction::shard& home, std::string address, std::chrono::milliseconds idle_timeout,
               const relay_metrics& metrics);
  ~media_relays();
  media_relays(const media_relays&) = delete;
  media_relays& operator=(const media_relays&) = delete;

  // The caller's offer (the INVITE's From tag names the caller), as the callee should get it
  // (every medium pointed at the relay); nothing when the body is not SDP this can read (then
  // the call goes unanchored).
  std::optional<std::string> rewrite_offer(const std::string& call_id, std::string_view caller_tag,
                                           std::string_view offer);
  // A re-INVITE's offer from either side (its From tag says which) and the answer to it, pointed
  // at the relay's same ports, so that a hold or a move keeps the call anchored. Nothing for a
  // call this shard does not relay.
  std::optional<std::string> rewrite_reoffer(const std::string& call_id, std::string_view from_tag,
                                             std::string_view offer);
  std::optional<std::string> rewrite_reanswer(const std::string& call_id, std::string_view offerer_tag,
                                              std::string_view answer);
  // The callee's answer (in a 18x or the 2xx: `status`), as the caller should get it. The 2xx
  // starts the call's tap, when the factory makes one.
  std::optional<std::string> rewrite_answer(const std::string& call_id, std::string_view answer, int status,
                                            std::string_view caller, std::string_view callee);
  void set_tap_factory(relay_tap_factory factory) { tap_factory_ = std::move(factory); }
  // The call ended (BYE, or the INVITE failed).
  void end(const std::string& call_id);
  std::size_t size() const noexcept { return calls_.size(); }

 struct call;  // public for its parts in the .cpp

 private:
  void expire();
  // Points the media of `sdp` (the caller's or the callee's) at the relay's sockets, learns where
  // that party's media is, and returns it written again.
  std::string point_at_relay(call& c, media::sdp::session_description& sdp, bool from_caller);
  junction::shard& home_;
  std::string address_;
  std::chrono::milliseconds idle_timeout_;
  const relay_metrics& metrics_;
  std::unordered_map<std::string, std::unique_ptr<call>> calls_;
  boost::asio::steady_timer sweep_;
  relay_tap_factory tap_factory_;
};

// A SIP message's bytes with another body (Content-Length written again).
std::string with_body(std::string_view wire, std::string_view body);

}  // namespace junction::sip
