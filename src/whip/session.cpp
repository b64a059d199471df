#include "whip/session.hpp"

#include <openssl/rand.h>

#include "core/log.hpp"
#include "core/shard.hpp"

namespace junction::whip {

session_metrics session_metrics::declare(metric_registry& r) {
  using k = metric_kind;
  session_metrics m;
  m.publishers = r.add("junction_whip_sessions", "WebRTC publishers (WHIP sessions).", k::gauge);
  m.players = r.add("junction_whep_sessions", "WebRTC players (WHEP sessions).", k::gauge);
  m.publishes = r.add("junction_whip_publishes_total", "WHIP sessions started.", k::counter);
  m.plays = r.add("junction_whep_plays_total", "WHEP sessions started.", k::counter);
  m.refusals = r.add("junction_webrtc_refusals_total",
                     "WHIP and WHEP offers refused (authorization, a bad offer, a full port, a stream in use).",
                     k::counter);
  m.frames_in = r.add("junction_whip_frames_total", "Frames WHIP publishers put into the stream hub.", k::counter);
  m.packets_out = r.add("junction_whep_packets_sent_total", "RTP packets sent to WHEP players.", k::counter);
  m.resent = r.add("junction_whep_packets_resent_total", "RTP packets sent again to WHEP players (NACK).",
                   k::counter);
  m.bytes_out = r.add("junction_whep_bytes_sent_total",
                      "RTP bytes sent to WHEP players (headers and payload, before SRTP's tag).", k::counter);
  m.nacked = r.add("junction_whip_packets_nacked_total",
                   "RTP packets WHIP publishers were asked to send again (lost on the way, NACK).", k::counter);
  m.transcoding = r.add("junction_whip_transcoding",
                        "WHIP publishers transcoding now (VP8 to H.264, Opus to AAC): those whose stream has a "
                        "consumer.", k::gauge);
  m.layer_switches = r.add("junction_whep_layer_switches_total",
                           "WHEP players moved to another simulcast layer (their browser's REMB said less, or more).",
                           k::counter);
  return m;
}

std::uint32_t random_ssrc() {
  std::uint32_t v = 0;
  while (v == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

bool session_table::end(const std::string& id, std::string_view why) {
  auto it = sessions.find(id);
  if (it == sessions.end()) return false;
  auto keep = it->second;
  keep->end(why);
  return true;
}

session* session_table::find(const std::string& id) const {
  auto it = sessions.find(id);
  return it == sessions.end() ? nullptr : it->second.get();
}

session::session(junction::shard& home, webrtc::webrtc_port& port, session_table& table,
                 const session_metrics& metrics, std::string id, std::string key, std::string peer)
    : home_(home),
      metrics_(metrics),
      key_(std::move(key)),
      peer_(std::move(peer)),
      ssrc_(random_ssrc()),
      port_(&port),
      table_(table),
      id_(std::move(id)) {}

session::~session() = default;

void session::count(metric_id id, std::uint64_t n) { home_.metrics().add(id, n); }

bool session::join(const webrtc::ice_credentials& local, const webrtc::offer& o) {
  remote_ufrag_ = o.ice.ufrag;
  peer_id_ = port_->add(local, o.ice.ufrag, o.fingerprint, webrtc::answer_role(o), *this);
  if (!peer_id_) return false;
  table_.sessions.emplace(id_, shared_from_this());
  return true;
}

bool session::send(webrtc::packet_kind kind, std::vector<std::uint8_t> packet) {
  return !ended_ && peer_id_ && port_->send(*peer_id_, kind, std::move(packet));
}

void session::end(std::string_view why) {
  if (ended_) return;
  ended_ = true;
  auto keep = shared_from_this();  // the table may hold the last reference
  if (peer_id_) port_->remove(*peer_id_);
  on_end();
  table_.sessions.erase(id_);
  log::info("{} {} {}: '{}' ended: {}", kind(), id_, peer_, key_, why);
}

void session::on_state(webrtc::transport::state now, const std::string& why) {
  using state = webrtc::transport::state;
  if (now == state::connected) {
    log::info("{} {} {}: connected", kind(), id_, peer_);
    on_connected();
    return;
  }
  if (now == state::failed) end("the transport failed: " + why);
  if (now == state::closed) end(why.empty() ? std::string("closed by the peer") : why);
}

}  // namespace junction::whip
