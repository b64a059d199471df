#pragma once
// The client's side of a WHEP (or WHIP) session, sans-IO, for load generators and tests that
// play a browser: the offer it POSTs (ICE credentials, its certificate's fingerprint, actpass,
// BUNDLE and rtcp-mux, H.264 packetization-mode 1 and Opus), what it reads from the answer (the
// server's credentials, fingerprint and first UDP candidate), and the transport: checks as the
// controlling agent (with USE-CANDIDATE), the DTLS server (the answer took active), SRTP keyed
// from DTLS. Datagrams from the server go in; datagrams to send and RTP/RTCP received, decrypted,
// come out. One server address: everything goes to the answer's candidate.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/srtp/session.hpp"
#include "webrtc/demux.hpp"
#include "webrtc/dtls.hpp"
#include "webrtc/ice_lite.hpp"

namespace junction::webrtc {

struct client_offer_options {
  bool video = true, audio = false;
  bool receive = true;  // recvonly (WHEP); false: sendonly (WHIP)
  std::uint8_t h264_payload_type = 102, rtx_payload_type = 103, opus_payload_type = 111;
};

// What the client needs of the server's answer.
struct server_answer {
  ice_credentials ice;
  fingerprint_value fingerprint;
  std::string address;  // the first UDP host candidate
  std::uint16_t port = 0;
};
// The answer's parts, or what is missing.
std::variant<server_answer, std::string> read_server_answer(std::string_view sdp);

class client_peer {
 public:
  using clock = std::chrono::steady_clock;
  enum class state { checking, connecting, connected, failed };

  client_peer(std::shared_ptr<const dtls_certificate> certificate, client_offer_options options);

  const std::string& offer() const noexcept { return offer_; }
  // Takes the answer; false (and why) when it lacks what the transport needs.
  bool answer(std::string_view sdp, std::string& why);
  const server_answer& server() const noexcept { return server_; }

  // A connectivity check to send now (again every 50 ms while checking, then every few seconds
  // to keep consent fresh).
  std::vector<std::uint8_t> check();
  void on_datagram(std::span<const std::uint8_t> datagram, clock::time_point now);
  void on_timer(clock::time_point now);
  std::optional<clock::time_point> next_timeout() const noexcept;

  // Protects one RTCP (or RTP) packet for the server; false before the keys.
  bool send(packet_kind kind, std::vector<std::uint8_t> packet);

  std::vector<std::vector<std::uint8_t>> take_outgoing() { return std::exchange(outgoing_, {}); }
  struct received {
    packet_kind kind;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<received> take_received() { return std::exchange(received_, {}); }

  state current() const noexcept { return state_; }
  const std::string& failure() const noexcept { return failure_; }

 private:
  void after_dtls();

  std::shared_ptr<const dtls_certificate> certificate_;
  ice_credentials local_;
  std::string offer_;
  server_answer server_;
  std::unique_ptr<dtls_transport> dtls_;
  std::unique_ptr<media::srtp::session> in_, out_;
  state state_ = state::checking;
  std::string failure_;
  std::vector<std::vector<std::uint8_t>> outgoing_;
  std::vector<received> received_;
};

}  // namespace junction::webrtc
