#pragma once
// DTLS 1.2 for WebRTC (RFC 8827 §6.5, RFC 5764): one peer's association, sans-IO. OpenSSL runs
// the handshake over memory: each datagram from the peer goes in, the datagrams it writes (one
// per record, none larger than the MTU) come out, and retransmissions happen when the owner
// calls on_timer at next_timeout(). The peer's certificate is self-signed; what makes it the
// peer's is its fingerprint, which must match the one its SDP gave (a=fingerprint). Once
// connected, the SRTP profile and master keys it exported (RFC 5764 §4.2) key the media. The
// fingerprint is checked while the handshake runs, so that a peer presenting another certificate
// is refused with an alert and does not believe itself connected.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "media/srtp/session.hpp"

struct x509_store_ctx_st;

namespace junction::webrtc {

// An ECDSA P-256 key and a self-signed certificate, made once at start and shared by every
// association, with its fingerprint for SDP.
class dtls_certificate {
 public:
  // Nothing when OpenSSL cannot make one, and `error` says why.
  static std::shared_ptr<const dtls_certificate> generate(std::string& error);
  static std::shared_ptr<const dtls_certificate> generate() {
    std::string ignored;
    return generate(ignored);
  }
  ~dtls_certificate();
  dtls_certificate(const dtls_certificate&) = delete;
  dtls_certificate& operator=(const dtls_certificate&) = delete;

  // "sha-256 AB:CD:..." as a=fingerprint carries it (RFC 8122 §5).
  const std::string& fingerprint() const noexcept { return fingerprint_; }

 private:
  friend class dtls_transport;
  dtls_certificate() = default;
  struct handles;
  std::unique_ptr<handles> h_;
  std::string fingerprint_;
};

// "sha-256 AB:CD:..." -> the algorithm and the digest bytes; nothing when unreadable.
struct fingerprint_value {
  std::string algorithm;  // lower case: "sha-256", "sha-1", "sha-384", "sha-512"
  std::vector<std::uint8_t> digest;
};
std::optional<fingerprint_value> parse_fingerprint(std::string_view text);

// The master keys an association exported, for each direction.
struct srtp_keying {
  media::srtp::suite suite = media::srtp::suite::aes_cm_128_hmac_sha1_80;
  std::vector<std::uint8_t> local_master;   // key || salt: protects what this side sends
  std::vector<std::uint8_t> remote_master;  // unprotects what the peer sends
};

class dtls_transport {
 public:
  using clock = std::chrono::steady_clock;
  enum class role { client, server };  // a=setup:active is the client (RFC 8842 §4)
  enum class state { handshaking, connected, failed, closed };

  static constexpr std::size_t mtu = 1200;

  dtls_transport(std::shared_ptr<const dtls_certificate> certificate, role r, fingerprint_value expected);
  ~dtls_transport();
  dtls_transport(const dtls_transport&) = delete;
  dtls_transport& operator=(const dtls_transport&) = delete;

  // The client's first flight (nothing for a server, which waits for it).
  void start(clock::time_point now);
  // One datagram from the peer.
  void on_datagram(std::span<const std::uint8_t> datagram, clock::time_point now);
  // Retransmits a flight the peer did not answer in time.
  void on_timer(clock::time_point now);
  // When on_timer is due (nothing while no flight waits for an answer).
  std::optional<clock::time_point> next_timeout() const noexcept { return timeout_; }
  // Application data (SCTP for data channels), once connected; false when it could not go.
  bool send(std::span<const std::uint8_t> data);
  // A close_notify for the peer.
  void close();
  // Once the peer is known to have finished its handshake too (its SRTP arrived, so it needs no
  // flight of ours again): the close_notify close() will send is made now and kept, and OpenSSL's
  // state for the association goes (tens of KiB, kept otherwise for the association's life,
  // though media never passes through it). After this, any alert record from the peer (its
  // content type is in clear) ends the association, and application data can no longer go.
  void release();
  bool released() const noexcept { return released_; }

  // What to send to the peer: the datagrams written since the last call.
  std::vector<std::vector<std::uint8_t>> take_outgoing() { return std::exchange(outgoing_, {}); }
  // Application data received since the last call.
  std::vector<std::vector<std::uint8_t>> take_received() { return std::exchange(received_, {}); }

  state current() const noexcept { return state_; }
  // Why it failed, in words (the peer's alert, a fingerprint that did not match, a timeout).
  const std::string& failure() const noexcept { return failure_; }
  // Once connected.
  const std::optional<srtp_keying>& keying() const noexcept { return keying_; }

 private:
  struct handles;
  void after_io(clock::time_point now);
  void fail(std::string why);
  bool finish_handshake();
  bool certificate_matches(void* x509) const;
  // OpenSSL's verification of the peer's certificate: it is the offer's fingerprint or the
  // handshake ends there, with an alert the peer sees.
  static int verify_peer(int preverified, x509_store_ctx_st* store);

  std::shared_ptr<const dtls_certificate> certificate_;
  role role_;
  fingerprint_value expected_;
  std::unique_ptr<handles> h_;
  state state_ = state::handshaking;
  std::string failure_;
  bool fingerprint_mismatch_ = false;
  std::optional<clock::time_point> timeout_;
  std::vector<std::vector<std::uint8_t>> outgoing_;
  std::vector<std::vector<std::uint8_t>> received_;
  std::optional<srtp_keying> keying_;
  bool released_ = false;
  std::vector<std::vector<std::uint8_t>> close_notify_;  // made by release()
};

}  // namespace junction::webrtc
