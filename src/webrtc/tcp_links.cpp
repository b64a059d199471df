#include "webrtc/tcp_links.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "core/shard.hpp"

namespace junction::webrtc {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
using clock = std::chrono::steady_clock;

}  // namespace

struct tcp_links::link {
  explicit link(tcp::socket s, endpoint k) : socket(std::move(s)), key(k) {}
  tcp::socket socket;
  endpoint key;
  tcp_deframer deframer;
  std::deque<std::vector<std::uint8_t>> waiting;
  std::size_t waiting_bytes = 0;
  bool writing = false, closed = false;
  clock::time_point last_received = clock::now();
};

std::size_t tcp_links::endpoint_hash::operator()(const endpoint& e) const noexcept {
  std::size_t h = std::hash<unsigned short>{}(e.port());
  if (e.address().is_v4()) return h ^ (std::hash<std::uint32_t>{}(e.address().to_v4().to_uint()) * 31);
  for (auto b : e.address().to_v6().to_bytes()) h = h * 131 + b;
  return h;
}

tcp_links::tcp_links(junction::shard& home, tcp::acceptor acceptor, std::size_t max_links, on_packet_function on_packet)
    : home_(home),
      acceptor_(std::move(acceptor)),
      max_links_(max_links),
      on_packet_(std::move(on_packet)),
      sweep_(home.context()) {}

tcp_links::~tcp_links() = default;

std::uint16_t tcp_links::local_port() const {
  boost::system::error_code ec;
  auto local = acceptor_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void tcp_links::start() {
  if (running_ || !acceptor_.is_open()) return;
  running_ = true;
  asio::co_spawn(home_.context(), accept_loop(shared_from_this()), asio::detached);
  asio::co_spawn(home_.context(), sweep_loop(shared_from_this()), asio::detached);
}

void tcp_links::stop() {
  running_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  sweep_.cancel();
  auto all = std::exchange(links_, {});
  for (auto& [key, l] : all) {
    l->closed = true;
    l->socket.close(ignored);
  }
  on_packet_ = nullptr;
}

void tcp_links::close(const std::shared_ptr<link>& l) {
  if (l->closed) return;
  l->closed = true;
  boost::system::error_code ignored;
  l->socket.close(ignored);
  auto it = links_.find(l->key);
  if (it != links_.end() && it->second == l) links_.erase(it);
}

asio::awaitable<void> tcp_links::accept_loop(std::shared_ptr<tcp_links> self) {
  while (running_) {
    auto [ec, socket] = co_await acceptor_.async_accept(no_throw);
    if (!running_ || ec == asio::error::operation_aborted) break;
    if (ec) continue;
    boost::system::error_code peer_ec;
    const auto remote = socket.remote_endpoint(peer_ec);
    if (peer_ec || links_.size() >= max_links_) {
      socket.close(peer_ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), peer_ec);
    const endpoint key{remote.address(), remote.port()};
    auto l = std::make_shared<link>(std::move(socket), key);
    if (auto old = links_.find(key); old != links_.end()) close(old->second);
    links_[key] = l;
    asio::co_spawn(home_.context(), read_loop(self, l), asio::detached);
  }
}

asio::awaitable<void> tcp_links::read_loop(std::shared_ptr<tcp_links> self, std::shared_ptr<link> l) {
  std::vector<std::uint8_t> buffer(8192);
  while (running_ && !l->closed) {
    auto [ec, n] = co_await l->socket.async_read_some(asio::buffer(buffer), no_throw);
    if (ec || !running_ || l->closed) break;
    l->last_received = clock::now();
    l->deframer.feed(std::span<const std::uint8_t>(buffer.data(), n), [&](std::span<const std::uint8_t> packet) {
      if (on_packet_ && !l->closed) on_packet_(packet, l->key);
    });
  }
  close(l);
}

bool tcp_links::send(const endpoint& to, std::span<const std::uint8_t> packet) {
  if (links_.empty()) return false;  // the usual case: every peer on UDP, nothing to look up
  auto it = links_.find(to);
  if (it == links_.end()) return false;
  auto l = it->second;
  if (l->waiting_bytes + packet.size() + 2 > max_waiting) {
    ++dropped_;
    return true;  // the connection's, dropped: not for UDP either
  }
  std::vector<std::uint8_t> framed;
  framed.reserve(packet.size() + 2);
  if (!frame_for_tcp(packet, framed)) return true;
  l->waiting_bytes += framed.size();
  l->waiting.push_back(std::move(framed));
  if (!l->writing) {
    l->writing = true;
    asio::co_spawn(home_.context(), write_loop(shared_from_this(), l), asio::detached);
  }
  return true;
}

asio::awaitable<void> tcp_links::write_loop(std::shared_ptr<tcp_links> self, std::shared_ptr<link> l) {
  while (running_ && !l->closed && !l->waiting.empty()) {
    auto bytes = std::move(l->waiting.front());
    l->waiting.pop_front();
    l->waiting_bytes -= bytes.size();
    auto [ec, n] = co_await asio::async_write(l->socket, asio::buffer(bytes), no_throw);
    if (ec) {
      close(l);
      break;
    }
  }
  l->writing = false;
}

asio::awaitable<void> tcp_links::sweep_loop(std::shared_ptr<tcp_links> self) {
  while (running_) {
    sweep_.expires_after(std::chrono::seconds(5));
    co_await sweep_.async_wait(no_throw);
    if (!running_) break;
    const auto now = clock::now();
    std::vector<std::shared_ptr<link>> idle;
    for (auto& [key, l] : links_)
      if (now - l->last_received > idle_limit) idle.push_back(l);
    for (auto& l : idle) close(l);
  }
}

}  // namespace junction::webrtc
