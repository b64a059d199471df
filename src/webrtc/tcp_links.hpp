#pragma once
// ICE-TCP's passive side (RFC 6544) for one shard's WebRTC port: a TCP listener on the port's
// number, for browsers whose UDP does not get through (a firewall that lets only TCP out). Each
// accepted connection carries RFC 4571-framed packets (tcp_framing.hpp) that go to the port as
// datagrams would, named by the connection's remote address and port: the port's table and the
// peers' transports treat them like any source, and what a transport sends to that address goes
// back over the connection. A connection nothing came over for 30 s is closed; at most
// `max_links` at once; past 4 MiB waiting to be written, packets to a connection are dropped.
//
// Runs on the port's shard; held by shared_ptr (its loops keep it alive until they end).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "webrtc/tcp_framing.hpp"

namespace junction {
class shard;
}

namespace junction::webrtc {

class tcp_links : public std::enable_shared_from_this<tcp_links> {
 public:
  using endpoint = boost::asio::ip::udp::endpoint;  // a connection's remote address, as the port names sources
  using on_packet_function = std::function<void(std::span<const std::uint8_t>, const endpoint&)>;

  tcp_links(junction::shard& home, boost::asio::ip::tcp::acceptor acceptor, std::size_t max_links,
            on_packet_function on_packet);
  ~tcp_links();
  tcp_links(const tcp_links&) = delete;
  tcp_links& operator=(const tcp_links&) = delete;

  void start();
  // Closes the listener and every connection; nothing is called back afterwards.
  void stop();
  // Frames and queues `packet` for the connection from `to`; false when there is none (the
  // caller sends it over UDP).
  bool send(const endpoint& to, std::span<const std::uint8_t> packet);

  std::size_t size() const noexcept { return links_.size(); }
  std::uint16_t local_port() const;
  std::uint64_t dropped() const noexcept { return dropped_; }

  struct link;

 private:
  struct endpoint_hash {
    std::size_t operator()(const endpoint& e) const noexcept;
  };
  boost::asio::awaitable<void> accept_loop(std::shared_ptr<tcp_links> self);
  boost::asio::awaitable<void> read_loop(std::shared_ptr<tcp_links> self, std::shared_ptr<link> l);
  boost::asio::awaitable<void> write_loop(std::shared_ptr<tcp_links> self, std::shared_ptr<link> l);
  boost::asio::awaitable<void> sweep_loop(std::shared_ptr<tcp_links> self);
  void close(const std::shared_ptr<link>& l);

  junction::shard& home_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::size_t max_links_;
  on_packet_function on_packet_;
  std::unordered_map<endpoint, std::shared_ptr<link>, endpoint_hash> links_;
  boost::asio::steady_timer sweep_;
  std::uint64_t dropped_ = 0;
  bool running_ = false;
  static constexpr std::size_t max_waiting = 4 << 20;
  static constexpr std::chrono::seconds idle_limit{30};
};

}  // namespace junction::webrtc
