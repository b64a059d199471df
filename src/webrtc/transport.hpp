#pragma once
// One WebRTC peer's transport, sans-IO: ICE-lite, DTLS and SRTP over the datagrams of one port.
// Datagrams from the peer go in with their source; what to send comes out with its destination;
// RTP and RTCP the peer sent come out decrypted, and RTP and RTCP to send go in clear.
//
//   STUN  -> the ICE agent; its reply goes back to the source. A source that passed a check is
//            "proven"; the nominated one is where everything is sent.
//   DTLS  -> from a proven source only; the handshake starts once a check has passed (when
//            Junction is the DTLS client) and keys SRTP when it completes.
//   SRTP  -> from a proven source only, once keyed; unprotected, replay-checked.
// The transport fails (and says why) when the DTLS handshake fails or times out or when the
// peer's consent lapses; a failed or closed transport takes nothing more.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "media/srtp/session.hpp"
#include "webrtc/demux.hpp"
#include "webrtc/dtls.hpp"
#include "webrtc/ice_lite.hpp"

namespace junction::webrtc {

class transport {
 public:
  using clock = std::chrono::steady_clock;
  using endpoint = boost::asio::ip::udp::endpoint;
  enum class state { checking, connecting, connected, failed, closed };

  struct outgoing {
    endpoint to;
    std::vector<std::uint8_t> bytes;
  };
  struct received {
    packet_kind kind = packet_kind::rtp;  // rtp or rtcp
    std::vector<std::uint8_t> bytes;      // decrypted
  };
  struct counters {
    std::uint64_t unproven_dropped = 0;  // DTLS or SRTP from a source no check came from
    std::uint64_t srtp_failures = 0;     // authentication, replay or malformed
    std::uint64_t early_media = 0;       // SRTP before the keys
  };

  // An empty `remote_fingerprint` leaves the peer's side to set_remote(): Junction offered, and
  // the answer with it has not come yet. Checks with any ufrag are answered meanwhile; DTLS waits
  // (the peer's latest first flight is kept and taken once the answer says who is the client).
  transport(std::shared_ptr<const dtls_certificate> certificate, ice_credentials local, std::string remote_ufrag,
            fingerprint_value remote_fingerprint, dtls_transport::role role, clock::time_point now);

  // The peer's answer: its ufrag, its certificate's fingerprint and the DTLS role Junction takes.
  // Once only; false when the remote side was known already.
  bool set_remote(std::string remote_ufrag, fingerprint_value remote_fingerprint, dtls_transport::role role,
                  clock::time_point now);

  void on_datagram(std::span<const std::uint8_t> datagram, const endpoint& from, clock::time_point now);
  // Runs what is due: DTLS retransmissions, the consent check.
  void on_timer(clock::time_point now);
  // When on_timer is next due.
  clock::time_point next_timeout() const noexcept;

  // Protects and queues one RTP or RTCP packet for the peer; false when it cannot go yet (not
  // connected, nothing nominated) or SRTP refused it.
  bool send(packet_kind kind, std::vector<std::uint8_t> packet);
  // Ends the association (a DTLS close_notify goes to the peer).
  void close();

  std::vector<outgoing> take_outgoing() { return std::exchange(outgoing_, {}); }
  std::vector<received> take_received() { return std::exchange(received_, {}); }

  state current() const noexcept { return state_; }
  const std::string& failure() const noexcept { return failure_; }
  const ice_lite_agent& ice() const noexcept { return ice_; }
  const counters& stats() const noexcept { return stats_; }

 private:
  void fail(std::string why);
  void flush_dtls(const endpoint& to);
  void after_dtls(const endpoint& from);

  void start_client(const endpoint& from, clock::time_point now);

  ice_lite_agent ice_;
  std::shared_ptr<const dtls_certificate> certificate_;
  std::optional<dtls_transport> dtls_;  // once the peer's fingerprint is known
  dtls_transport::role role_;
  bool dtls_started_ = false;
  std::optional<endpoint> dtls_peer_;  // where DTLS last went or came from: retransmissions go there
  std::optional<std::pair<endpoint, std::vector<std::uint8_t>>> early_dtls_;  // before set_remote()
  state state_ = state::checking;
  std::string failure_;
  std::unique_ptr<media::srtp::session> inbound_, outbound_;
  std::vector<outgoing> outgoing_;
  std::vector<received> received_;
  counters stats_;
};

}  // namespace junction::webrtc
