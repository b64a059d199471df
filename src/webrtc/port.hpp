#pragma once
// One shard's WebRTC port: a UDP socket that every WebRTC peer of the shard shares, so that no
// port range has to be opened (candidates name this port; a peer's datagrams so reach the shard
// its transport lives on). Datagrams are read in batches and handed to each peer's transport by
// the port's table (a check by its ufrag, the rest by a proven source); what the transports
// write is sent at once; their timers (DTLS retransmission, consent) run off one timer set to
// the earliest. Signalling (WHIP, WHEP, SIP over WebSocket) adds and removes peers on the shard.
//
// The loops run on the shard's io_context; peer_events are called there, never after remove()
// or stop(). A port is held by shared_ptr: its loops keep it alive until they end, which they do
// when the shard runs after stop() (the owner lets it, as a draining runtime does, before the
// io_context goes).
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "core/metrics.hpp"
#include "webrtc/port_table.hpp"
#include "webrtc/tcp_links.hpp"
#include "webrtc/transport.hpp"

namespace junction {
class shard;
}

namespace junction::webrtc {

// What a peer's owner hears, on the shard.
class peer_events {
 public:
  virtual ~peer_events() = default;
  // RTP or RTCP the peer sent, decrypted.
  virtual void on_media(packet_kind kind, std::span<const std::uint8_t> packet) = 0;
  // The transport is connected, or has ended (failed with a reason, or closed by the peer);
  // after an end the peer is gone from the port.
  virtual void on_state(transport::state now, const std::string& why) = 0;
};

struct port_counters {
  std::optional<metric_id> peers;      // gauge: peers on the port
  std::optional<metric_id> connected;  // counter: transports that connected
  std::optional<metric_id> failed;     // counter: transports that failed
  std::optional<metric_id> strangers;  // counter: datagrams no peer claimed
  std::optional<metric_id> received;   // counter: RTP and RTCP packets delivered
  std::optional<metric_id> send_drops; // counter: datagrams dropped, the send backlog full
};

class webrtc_port : public std::enable_shared_from_this<webrtc_port> {
 public:
  using peer_id = port_table::peer_id;
  using endpoint = boost::asio::ip::udp::endpoint;

  // A socket bound to `address`:`port` (0: the kernel picks); nothing (and `ec`) when that fails.
  static std::shared_ptr<webrtc_port> open(junction::shard& home, const endpoint& where,
                                           std::shared_ptr<const dtls_certificate> certificate,
                                           port_counters counters, boost::system::error_code& ec);
  webrtc_port(junction::shard& home, boost::asio::ip::udp::socket socket,
              std::shared_ptr<const dtls_certificate> certificate, port_counters counters);
  ~webrtc_port();
  webrtc_port(const webrtc_port&) = delete;
  webrtc_port& operator=(const webrtc_port&) = delete;

  // ICE-TCP (tcp_links.hpp): a TCP listener on this port's address at `port` (0: one the kernel
  // picks; a UDP port's number may be some TCP socket's already), whose connections' packets
  // reach the peers as datagrams do. False (and `ec`) when it cannot be bound.
  bool listen_tcp(std::uint16_t port, boost::system::error_code& ec);
  bool has_tcp() const noexcept { return tcp_ != nullptr; }
  std::uint16_t tcp_port() const { return tcp_ ? tcp_->local_port() : 0; }
  // Starts the loops.
  void start();
  // Ends them and closes the socket: every peer gets a DTLS close_notify, and its owner hears
  // on_state(closed, "the server is stopping").
  void stop();

  // At most this many peers at once (add() refuses the next); 4,096 unless set.
  void set_max_peers(std::size_t n) noexcept { max_peers_ = n; }
  // A new peer answering checks to `local.ufrag`; nothing when that ufrag is taken here, the
  // port is full or stopped. `events` must outlive the peer: until remove(), an end it is told
  // of, or stop().
  std::optional<peer_id> add(ice_credentials local, std::string remote_ufrag, fingerprint_value remote_fingerprint,
                             dtls_transport::role role, peer_events& events);
  // The peer's side for a peer added without it (an empty fingerprint: Junction made the offer),
  // from the answer; false for an unknown peer or one whose side was known.
  bool set_remote(peer_id id, std::string remote_ufrag, fingerprint_value remote_fingerprint,
                  dtls_transport::role role);
  // Protects and sends one packet to the peer; false when it cannot go (not connected yet).
  bool send(peer_id id, packet_kind kind, std::vector<std::uint8_t> packet);
  // Ends the peer (a DTLS close_notify goes to it) and forgets it.
  void remove(peer_id id);

  std::uint16_t local_port() const;
  std::size_t peers() const noexcept { return peers_.size(); }
  const std::shared_ptr<const dtls_certificate>& certificate() const noexcept { return certificate_; }

 private:
  struct peer {
    std::unique_ptr<transport> t;
    peer_events* events = nullptr;
    transport::state reported = transport::state::checking;
  };

  boost::asio::awaitable<void> receive_loop(std::shared_ptr<webrtc_port> self);
  boost::asio::awaitable<void> timer_loop(std::shared_ptr<webrtc_port> self);
  // Sends what the socket's buffer did not take at once, as it drains.
  boost::asio::awaitable<void> write_loop(std::shared_ptr<webrtc_port> self);
  // Sends a datagram now, or after those still waiting: a keyframe fanned out to every player of
  // a shard is a burst no socket buffer holds. At most max_backlog bytes wait; beyond, the
  // datagram is dropped (and counted) as the network would drop it.
  void transmit(std::vector<std::uint8_t> bytes, const endpoint& to);
  void on_datagram(std::span<const std::uint8_t> datagram, const endpoint& from);
  // After a transport took something: sends what it wrote, learns its proven sources, hands on
  // what it received, tells its owner of a change of state, and keeps the timer early enough.
  void settle(peer_id id);
  void drop(peer_id id);
  void count(const std::optional<metric_id>& id, std::int64_t n = 1);

  junction::shard& home_;
  boost::asio::ip::udp::socket socket_;
  std::shared_ptr<tcp_links> tcp_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<const dtls_certificate> certificate_;
  port_counters counters_;
  port_table table_;
  std::unordered_map<peer_id, peer> peers_;
  peer_id next_id_ = 1;
  std::size_t max_peers_ = 4096;
  bool running_ = false;
  static constexpr std::size_t max_backlog = 32 << 20;
  std::deque<std::pair<endpoint, std::vector<std::uint8_t>>> backlog_;
  std::size_t backlog_bytes_ = 0;
  bool writing_ = false;
};

}  // namespace junction::webrtc
