#pragma once
// A user agent (user_agent.hpp) on a UDP socket of a shard: the datagrams the socket receives go
// in, what the agent sends goes out, its timer fires at its deadline, and its events go to the
// owner's handler, all on the shard's thread. The gateway's lines run one each; rooms dialling
// out and the farm's node links will too.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "sip/ua/user_agent.hpp"

namespace junction::sip::ua {

class udp_agent : public std::enable_shared_from_this<udp_agent> {
 public:
  using event_handler = std::function<void(event_t&)>;

  explicit udp_agent(boost::asio::io_context& io);
  ~udp_agent();
  udp_agent(const udp_agent&) = delete;
  udp_agent& operator=(const udp_agent&) = delete;

  // Binds the socket to `address` on a port the kernel picks (for the agent's Via and Contact).
  boost::system::error_code open(const boost::asio::ip::address& address);
  std::uint16_t local_port() const;

  // Runs `agent`: `on_event` hears each event until close().
  void start(std::unique_ptr<user_agent> agent, event_handler on_event);
  user_agent& agent() noexcept { return *agent_; }
  bool running() const noexcept { return running_; }
  // After a command to the agent: sends what it wrote, hands on its events, re-arms the timer.
  void pump();
  // Closes the socket and stops the loops; nothing is called back afterwards.
  void close();

 private:
  static boost::asio::awaitable<void> receive_loop(std::shared_ptr<udp_agent> self);
  static boost::asio::awaitable<void> timer_loop(std::shared_ptr<udp_agent> self);
  void send(const datagram& d);

  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();
  std::unique_ptr<user_agent> agent_;
  event_handler on_event_;
  bool running_ = false;
};

}  // namespace junction::sip::ua
