#pragma once
// One RTP port on a shard: the media-level endpoint every call, relay, room and WebRTC peer is
// built from. It owns one UDP socket carrying RTP and RTCP together (RFC 5761 demultiplexing by
// payload type), optionally SDES-SRTP (RFC 4568) in both directions, and symmetric RTP (RFC 4961):
// what it sends goes where the peer's packets really come from (it may be behind a NAT), until
// the first packet from the address the peer's SDP named. It remembers when the last packet came
// (the owner's inactivity timeout reads it) and lets a tap (a recorder, a mixer) see every
// datagram received, after SRTP.
//
// Its receive loop runs on the shard's io_context; `receiver` and `tap` are called there and never
// after `stop()`. An endpoint is held by shared_ptr: the loop keeps it alive until it ends.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include "core/metrics.hpp"

namespace junction {
class shard;
}
namespace junction::media::srtp {
class session;
}
namespace junction::media::sdp {
struct crypto;
}

namespace junction::media {

enum class datagram_kind { rtp, rtcp };

// What an endpoint hands on: each datagram received (after SRTP), with its kind.
class rtp_receiver {
 public:
  virtual ~rtp_receiver() = default;
  virtual void on_datagram(datagram_kind kind, std::span<const std::uint8_t> datagram) = 0;
};

// The shard's counters an endpoint keeps, each optional (a relay counts what it sends on, a
// gateway leg what it receives and sends and the SRTP failures).
struct rtp_endpoint_counters {
  std::optional<metric_id> received_rtp, sent, srtp_failures;
};

class rtp_endpoint : public std::enable_shared_from_this<rtp_endpoint> {
 public:
  using endpoint = boost::asio::ip::udp::endpoint;
  using tap_function = std::function<void(datagram_kind, std::span<const std::uint8_t>)>;

  // A socket bound to `address` on a port the kernel picks; nothing (and `ec`) when that fails.
  static std::shared_ptr<rtp_endpoint> open(junction::shard& home, const boost::asio::ip::address& address,
                                            rtp_endpoint_counters counters, boost::system::error_code& ec);
  // An endpoint around a socket bound already (the gateway keeps a port range).
  rtp_endpoint(junction::shard& home, boost::asio::ip::udp::socket socket, rtp_endpoint_counters counters);
  ~rtp_endpoint();
  rtp_endpoint(const rtp_endpoint&) = delete;
  rtp_endpoint& operator=(const rtp_endpoint&) = delete;

  // SDES-SRTP as agreed: our key protects what we send, the peer's unprotects what it sends.
  // False when a key cannot be used (then the call should not go on).
  bool use_srtp(const sdp::crypto& local, const sdp::crypto& remote);
  // Where to send until the peer's packets say otherwise (from its SDP). A port of 0 sends nothing.
  void set_remote(const endpoint& remote) noexcept { remote_ = remote; }
  // Starts the receive loop; `receiver` gets each datagram until stop().
  void start(rtp_receiver& receiver);
  // Hold (RFC 3264 §8.4): while off, RTP is not sent (RTCP still is).
  void set_sending(bool on) noexcept { sending_ = on; }
  void set_tap(tap_function tap) { tap_ = std::move(tap); }
  // Protects (with SRTP) and sends one datagram to the peer; false when it was not sent.
  bool send(std::span<const std::uint8_t> datagram);
  // Ends the loop and closes the socket; nothing is called back afterwards.
  void stop();

  bool running() const noexcept { return running_; }
  std::uint16_t local_port() const;
  const endpoint& remote() const noexcept { return remote_; }
  std::chrono::steady_clock::time_point last_received() const noexcept { return last_received_; }

 private:
  boost::asio::awaitable<void> receive_loop(std::shared_ptr<rtp_endpoint> self);

  junction::shard& home_;
  boost::asio::ip::udp::socket socket_;
  rtp_endpoint_counters counters_;
  endpoint remote_;
  std::unique_ptr<srtp::session> srtp_out_, srtp_in_;
  std::vector<std::uint8_t> scratch_;  // a datagram being protected
  rtp_receiver* receiver_ = nullptr;
  tap_function tap_;
  bool running_ = false, sending_ = true;
  std::chrono::steady_clock::time_point last_received_ = std::chrono::steady_clock::now();
};

}  // namespace junction::media
