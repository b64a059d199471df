#pragma once
// What a WHIP publisher and a WHEP player share: a peer on its shard's WebRTC port, the
// session's id (the last segment of its Location, "<shard>-<random>": the shard it lives on,
// and nothing a stranger could guess to end it), and its end: the peer leaves the port (a DTLS
// close_notify goes to the browser), the session lets go of its stream and leaves its shard's
// table. A session ends when the browser DELETEs it, closes its DTLS association or stops
// answering (consent lapses), when its transport fails, and when the server stops.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/metrics.hpp"
#include "webrtc/offer_answer.hpp"
#include "webrtc/port.hpp"

namespace junction {
class shard;
}

namespace junction::whip {

class session;

struct session_metrics {
  metric_id publishers, players;             // gauges: WHIP and WHEP sessions
  metric_id publishes, plays, refusals;      // counters
  metric_id frames_in, packets_out, resent;  // counters: frames into the hub, RTP out, NACK answers
  metric_id nacked;                          // counter: packets WHIP publishers were asked again for
  metric_id bytes_out;                       // counter: RTP bytes sent to WHEP players
  metric_id transcoding;                     // gauge: WHIP publishers transcoding for consumers now
  metric_id layer_switches;                  // counter: WHEP players moved to another simulcast layer
  static session_metrics declare(metric_registry& registry);
};

// The sessions of one shard, by id.
struct session_table {
  std::unordered_map<std::string, std::shared_ptr<session>> sessions;
  // Ends the session `id`; false when there is none here.
  bool end(const std::string& id, std::string_view why);
  // The session `id`, or nullptr.
  session* find(const std::string& id) const;
};

class session : public webrtc::peer_events, public std::enable_shared_from_this<session> {
 public:
  session(junction::shard& home, webrtc::webrtc_port& port, session_table& table, const session_metrics& metrics,
          std::string id, std::string key, std::string peer);
  ~session() override;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Joins the port as the peer `o` describes, answering checks to `local`; false when the port
  // is full. The table holds the session from then on.
  bool join(const webrtc::ice_credentials& local, const webrtc::offer& o);
  // Ends the session (idempotent); `why` goes to the log.
  void end(std::string_view why);

  const std::string& id() const noexcept { return id_; }
  const std::string& key() const noexcept { return key_; }
  const std::string& remote_ufrag() const noexcept { return remote_ufrag_; }
  bool ended() const noexcept { return ended_; }

  void on_state(webrtc::transport::state now, const std::string& why) final;

 protected:
  virtual const char* kind() const noexcept = 0;  // "whip" or "whep", for the log
  // The transport connected: media may flow.
  virtual void on_connected() {}
  // The session ends: let go of the stream.
  virtual void on_end() = 0;
  // Protects and sends one RTP or RTCP packet; false before the transport is connected.
  bool send(webrtc::packet_kind kind, std::vector<std::uint8_t> packet);
  void count(metric_id id, std::uint64_t n = 1);

  junction::shard& home_;
  const session_metrics& metrics_;
  std::string key_, peer_;
  std::uint32_t ssrc_;  // what Junction's RTCP (and, for a player, RTP) is sent from

 private:
  webrtc::webrtc_port* port_;
  session_table& table_;
  std::string id_, remote_ufrag_;
  std::optional<webrtc::webrtc_port::peer_id> peer_id_;
  bool ended_ = false;
};

// A random SSRC (never 0).
std::uint32_t random_ssrc();

}  // namespace junction::whip
