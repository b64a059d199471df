#pragma once
// The media of one call bridged between a browser and a phone (bridge_sdp.hpp says what each
// side sends): the browser is a peer of the shard's WebRTC port (ICE-lite, DTLS-SRTP), the phone
// an RTP endpoint on the SIP anchor address (plain RTP, symmetric). Audio in a codec both sides
// have passes with its header written again (payload type, SSRC, sequence and timestamp offsets);
// otherwise it is transcoded on the call's worker (never on the shard), packet by packet.
// RFC 4733 events go across when both sides agreed them, their timestamps and durations moved
// to the other side's clock. RTCP is not carried across: each leg's RTCP is its own.
//
// Runs on the shard that proxied the INVITE; the port and the endpoint call it there.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "media/net/rtp_endpoint.hpp"
#include "media/rtp/packet.hpp"
#include "sip_webrtc/bridge_sdp.hpp"
#include "transcode/audio_direction.hpp"
#include "webrtc/port.hpp"

namespace junction {
class shard;
class worker_pool;
}  // namespace junction

namespace junction::sip_webrtc {

struct bridge_metrics {
  metric_id bridges;     // gauge: calls bridged now
  metric_id calls;       // counter: calls bridged
  metric_id transcoded;  // counter: of those, calls whose audio is transcoded
  metric_id packets;     // counter: RTP packets carried across (either way)
  static bridge_metrics declare(metric_registry& registry);
};

class bridged_call final : public webrtc::peer_events,
                           public media::rtp_receiver,
                           public std::enable_shared_from_this<bridged_call> {
 public:
  using clock = std::chrono::steady_clock;

  // The phone's side opened on `address` (a port the kernel picks); nothing (and `ec`) when not.
  static std::shared_ptr<bridged_call> open(junction::shard& home, worker_pool& pool, const bridge_metrics& metrics,
                                            const std::string& address, boost::system::error_code& ec);
  bridged_call(junction::shard& home, worker_pool& pool, const bridge_metrics& metrics,
               std::shared_ptr<media::rtp_endpoint> phone);
  ~bridged_call() override;
  bridged_call(const bridged_call&) = delete;
  bridged_call& operator=(const bridged_call&) = delete;

  std::uint16_t phone_port() const { return phone_->local_port(); }
  // Joins `port` as the browser's peer, answering checks to `local`: with the browser's ufrag
  // and fingerprint when Junction answers its offer, without (an empty fingerprint) when
  // Junction makes the offer and the answer is still to come (complete() then). False when the
  // port takes no more peers.
  bool join(webrtc::webrtc_port& port, const webrtc::ice_credentials& local, std::string remote_ufrag,
            webrtc::fingerprint_value remote_fingerprint, webrtc::dtls_transport::role role);
  // The browser's answer to Junction's offer; false when the peer is gone.
  bool complete(std::string remote_ufrag, webrtc::fingerprint_value remote_fingerprint,
                webrtc::dtls_transport::role role);
  // Starts carrying media as `plan` says, to the phone at `phone`.
  void begin(const audio_plan& plan, const phone_media& phone);
  // A re-INVITE moved the phone or changed who sends (hold, resume).
  void update(const phone_media& phone, media::sdp::direction towards_browser);
  // Ends both sides (a DTLS close_notify to the browser); nothing is called back afterwards.
  void stop(const std::string& why);

  bool started() const noexcept { return started_; }
  bool ended() const noexcept { return ended_; }
  const audio_plan& plan() const noexcept { return plan_; }
  // The SSRC Junction sends the browser from (its answer names it).
  std::uint32_t browser_ssrc() const noexcept { return to_browser_.ssrc; }
  clock::time_point last_packet() const;

  // webrtc::peer_events: the browser.
  void on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> packet) override;
  void on_state(webrtc::transport::state now, const std::string& why) override;
  // media::rtp_receiver: the phone.
  void on_datagram(media::datagram_kind kind, std::span<const std::uint8_t> datagram) override;

  // One direction's sender: what goes out of Junction towards one side.
  struct sender {
    std::uint32_t ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp_base = 0;  // of transcoded audio
    std::uint8_t audio_type = 0, dtmf_type = 0;
    std::uint32_t audio_clock = 8000, dtmf_clock = 8000;
    bool has_dtmf = false;
    bool marker = true;  // the first audio packet out
    // Passed-through audio: the offsets from the source's numbers (set by its first packet,
    // again when its SSRC changes).
    std::optional<std::uint32_t> source_ssrc;
    std::uint16_t sequence_offset = 0;
    std::uint32_t timestamp_offset = 0;
    std::uint32_t last_timestamp = 0;
    clock::time_point last_sent{};
    // An RFC 4733 event in progress: its timestamp at the source and here.
    std::optional<std::uint32_t> event_source;
    std::uint32_t event_here = 0;
    media::sdp::codec codec;                     // what this side is sent
    std::vector<media::sdp::codec> accepted;     // what the other side may send
    std::optional<std::uint8_t> source_type;     // the payload type it sends now
    bool passing = false;                        // it is `codec`: passed through
    std::shared_ptr<transcode::audio_direction> transcoder;  // else, when it can be transcoded
    std::uint8_t source_dtmf = 0;
    std::uint32_t source_dtmf_clock = 8000;
    bool source_has_dtmf = false;
  };

 private:
  // A packet from one side towards the other.
  void carry(const media::rtp::packet& p, bool to_phone);
  void send_audio(bool to_phone, std::span<const std::uint8_t> payload, std::uint32_t timestamp, bool marker);
  void send_event(bool to_phone, const media::rtp::packet& p);
  void transmit(bool to_phone, const media::rtp::header& h, std::span<const std::uint8_t> payload);
  void transcode(bool to_phone, std::span<const std::uint8_t> payload);
  // The other side started sending `payload_type`: pass it, transcode it, or drop it.
  bool switch_source(sender& s, std::uint8_t payload_type);

  junction::shard& home_;
  worker_pool& pool_;
  const bridge_metrics& metrics_;
  std::size_t worker_;
  std::shared_ptr<media::rtp_endpoint> phone_;
  webrtc::webrtc_port* port_ = nullptr;
  std::optional<webrtc::webrtc_port::peer_id> peer_;
  audio_plan plan_;
  sender to_browser_, to_phone_;
  std::vector<std::uint8_t> scratch_;
  clock::time_point created_ = clock::now(), last_from_browser_{};
  bool started_ = false, ended_ = false, counted_transcoding_ = false, sending_to_browser_ = true, sending_to_phone_ = true;
};

}  // namespace junction::sip_webrtc
