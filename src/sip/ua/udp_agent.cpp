#include "sip/ua/udp_agent.hpp"

#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"

namespace junction::sip::ua {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

}  // namespace

udp_agent::udp_agent(asio::io_context& io) : socket_(io), timer_(io) {}

udp_agent::~udp_agent() = default;

boost::system::error_code udp_agent::open(const asio::ip::address& address) {
  boost::system::error_code ec;
  socket_.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) socket_.bind({address, 0}, ec);
  return ec;
}

std::uint16_t udp_agent::local_port() const {
  boost::system::error_code ec;
  auto local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void udp_agent::start(std::unique_ptr<user_agent> agent, event_handler on_event) {
  agent_ = std::move(agent);
  on_event_ = std::move(on_event);
  running_ = true;
  // The loops hold the agent by a parameter (not a lambda's capture: co_spawn of lambdas owning
  // memory corrupted the heap under load with GCC 12).
  asio::co_spawn(socket_.get_executor(), receive_loop(shared_from_this()), asio::detached);
  asio::co_spawn(socket_.get_executor(), timer_loop(shared_from_this()), asio::detached);
}

asio::awaitable<void> udp_agent::receive_loop(std::shared_ptr<udp_agent> self) {
  std::vector<char> buffer(65536);
  udp::endpoint from;
  while (self->running_) {
    auto [ec, n] = co_await self->socket_.async_receive_from(asio::buffer(buffer), from, no_throw);
    if (!self->running_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      continue;
    }
    self->agent_->on_datagram(std::string_view{buffer.data(), n}, from.address().to_string(), from.port(),
                              clock::now());
    self->pump();
  }
}

asio::awaitable<void> udp_agent::timer_loop(std::shared_ptr<udp_agent> self) {
  while (self->running_) {
    self->armed_for_ = self->agent_->deadline().value_or(clock::now() + std::chrono::hours(1));
    self->timer_.expires_at(self->armed_for_);
    co_await self->timer_.async_wait(no_throw);
    if (!self->running_) break;
    self->agent_->on_timer(clock::now());
    self->pump();
  }
}

void udp_agent::send(const datagram& d) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(d.host, ec);
  if (ec) {
    log::info("sip ua: cannot send to '{}': not an IP address", d.host);
    return;
  }
  socket_.send_to(asio::buffer(d.bytes), udp::endpoint{address, d.port}, 0, ec);
  if (ec) log::debug("sip ua: send to {}:{}: {}", d.host, d.port, ec.message());
}

void udp_agent::pump() {
  if (!agent_) return;
  for (int rounds = 0; rounds < 8; ++rounds) {
    auto out = agent_->take_output();
    auto events = agent_->take_events();
    if (out.empty() && events.empty()) break;
    if (running_)
      for (const auto& d : out) send(d);
    for (auto& e : events)
      if (on_event_ && running_) on_event_(e);
  }
  // An earlier deadline than the timer waits for: wake it to re-arm.
  if (auto due = agent_->deadline(); due && *due < armed_for_) timer_.cancel();
}

void udp_agent::close() {
  if (!running_ && !socket_.is_open()) return;
  running_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
  timer_.cancel();
}

}  // namespace junction::sip::ua
