#pragma once
// Media anchoring (sip.anchor_media): the proxy rewrites the SDP of the calls it forwards so that
// both phones send their RTP to Junction, which relays it to the other phone. Per medium two
// UDP sockets on the shard that proxied the INVITE: one the callee sends to (named in the offer
// the callee gets), one the caller sends to (named in the answer the caller gets). Packets are
// relayed as they are (RTP and RTCP alike, SRTP too); each side is learnt from where its packets
// come from (symmetric RTP). A relay ends with the call's BYE, a failed INVITE, or when no packet
// came for the RTP timeout.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/metrics.hpp"

namespace junction {
class shard;
}

namespace junction::sip {

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

  // The caller's offer, as the callee should get it (every medium pointed at the relay); nothing
  // when the body is not SDP this can read (then the call goes unanchored).
  std::optional<std::string> rewrite_offer(const std::string& call_id, std::string_view offer);
  // The callee's answer, as the caller should get it.
  std::optional<std::string> rewrite_answer(const std::string& call_id, std::string_view answer);
  // The call ended (BYE, or the INVITE failed).
  void end(const std::string& call_id);
  std::size_t size() const noexcept { return calls_.size(); }

 private:
  struct call;
  void expire();
  junction::shard& home_;
  std::string address_;
  std::chrono::milliseconds idle_timeout_;
  const relay_metrics& metrics_;
  std::unordered_map<std::string, std::shared_ptr<call>> calls_;
  boost::asio::steady_timer sweep_;
};

// A SIP message's bytes with another body (Content-Length written again).
std::string with_body(std::string_view wire, std::string_view body);

}  // namespace junction::sip
