#include "webrtc/port.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/datagram_batch.hpp"
#include "core/shard.hpp"

namespace junction::webrtc {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

}  // namespace

std::shared_ptr<webrtc_port> webrtc_port::open(junction::shard& home, const endpoint& where,
                                               std::shared_ptr<const dtls_certificate> certificate,
                                               port_counters counters, boost::system::error_code& ec) {
  udp::socket socket(home.context());
  socket.open(where.protocol(), ec);
  if (!ec) socket.bind(where, ec);
  if (!ec) socket.non_blocking(true, ec);
  // Room for bursts both ways (a keyframe fanned out to every player of the shard, a
  // publisher's keyframe); the kernel caps these at net.core.wmem_max / rmem_max, and what the
  // send buffer does not take waits in the port's backlog.
  if (!ec) {
    boost::system::error_code ignored;
    socket.set_option(udp::socket::send_buffer_size(4 << 20), ignored);
    socket.set_option(udp::socket::receive_buffer_size(4 << 20), ignored);
  }
  if (ec) return nullptr;
  return std::make_shared<webrtc_port>(home, std::move(socket), std::move(certificate), std::move(counters));
}

webrtc_port::webrtc_port(junction::shard& home, udp::socket socket, std::shared_ptr<const dtls_certificate> certificate,
                         port_counters counters)
    : home_(home),
      socket_(std::move(socket)),
      timer_(home.context()),
      certificate_(std::move(certificate)),
      counters_(std::move(counters)) {}

webrtc_port::~webrtc_port() = default;

void webrtc_port::count(const std::optional<metric_id>& id, std::int64_t n) {
  if (!id) return;
  if (n >= 0)
    home_.metrics().add(*id, static_cast<std::uint64_t>(n));
  else
    home_.metrics().sub(*id, static_cast<std::uint64_t>(-n));
}

bool webrtc_port::listen_tcp(std::uint16_t port, boost::system::error_code& ec) {
  if (tcp_ || !socket_.is_open()) return tcp_ != nullptr;
  const auto local = socket_.local_endpoint(ec);
  if (ec) return false;
  asio::ip::tcp::acceptor acceptor(home_.context());
  const asio::ip::tcp::endpoint where{local.address(), port};
  acceptor.open(where.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(where, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return false;
  tcp_ = std::make_shared<tcp_links>(home_, std::move(acceptor), max_peers_,
                                     [this](std::span<const std::uint8_t> packet, const endpoint& from) {
                                       on_datagram(packet, from);
                                     });
  if (running_) tcp_->start();
  return true;
}

void webrtc_port::start() {
  if (running_ || !socket_.is_open()) return;
  running_ = true;
  if (tcp_) tcp_->start();
  asio::co_spawn(home_.context(), receive_loop(shared_from_this()), asio::detached);
  asio::co_spawn(home_.context(), timer_loop(shared_from_this()), asio::detached);
}

void webrtc_port::stop() {
  running_ = false;
  timer_.cancel();
  // Each peer gets a close_notify and its owner hears that it ended; an owner that removes its
  // peer from there finds it gone already.
  auto ending = std::exchange(peers_, {});
  count(counters_.peers, -static_cast<std::int64_t>(ending.size()));
  for (auto& [id, p] : ending) {
    table_.remove(id);
    p.t->close();
    for (auto& o : p.t->take_outgoing()) {
      const std::string_view bytes(reinterpret_cast<const char*>(o.bytes.data()), o.bytes.size());
      if (socket_.is_open()) send_datagram_now(socket_.native_handle(), bytes, o.to);  // the loops have ended
    }
  }
  if (tcp_) tcp_->stop();
  // What the peers still had waiting goes with the socket (their close_notify went first when
  // the buffer had room).
  boost::system::error_code ec;
  socket_.close(ec);
  backlog_.clear();
  backlog_bytes_ = 0;
  for (auto& [id, p] : ending)
    if (p.reported != transport::state::failed && p.reported != transport::state::closed)
      p.events->on_state(transport::state::closed, "the server is stopping");
}

std::uint16_t webrtc_port::local_port() const {
  boost::system::error_code ec;
  auto local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

std::optional<webrtc_port::peer_id> webrtc_port::add(ice_credentials local, std::string remote_ufrag,
                                                     fingerprint_value remote_fingerprint, dtls_transport::role role,
                                                     peer_events& events) {
  if (peers_.size() >= max_peers_ || !socket_.is_open()) return std::nullopt;
  const peer_id id = next_id_++;
  if (!table_.add(local.ufrag, id)) return std::nullopt;
  peer p;
  p.t = std::make_unique<transport>(certificate_, std::move(local), std::move(remote_ufrag),
                                    std::move(remote_fingerprint), role, transport::clock::now());
  p.events = &events;
  peers_.emplace(id, std::move(p));
  count(counters_.peers);
  timer_.cancel();  // the timer loop sets itself for this peer's consent deadline too
  return id;
}

bool webrtc_port::set_remote(peer_id id, std::string remote_ufrag, fingerprint_value remote_fingerprint,
                             dtls_transport::role role) {
  auto it = peers_.find(id);
  if (it == peers_.end() ||
      !it->second.t->set_remote(std::move(remote_ufrag), std::move(remote_fingerprint), role, transport::clock::now()))
    return false;
  settle(id);  // a DTLS client's first flight, or the answer to the flight that waited
  return true;
}

bool webrtc_port::send(peer_id id, packet_kind kind, std::vector<std::uint8_t> packet) {
  auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.t->send(kind, std::move(packet))) return false;
  for (auto& o : it->second.t->take_outgoing()) transmit(std::move(o.bytes), o.to);
  return true;
}

void webrtc_port::remove(peer_id id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  it->second.t->close();
  for (auto& o : it->second.t->take_outgoing()) transmit(std::move(o.bytes), o.to);
  drop(id);
}

void webrtc_port::drop(peer_id id) {
  if (peers_.erase(id) == 0) return;
  table_.remove(id);
  count(counters_.peers, -1);
}

void webrtc_port::settle(peer_id id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  transport& t = *it->second.t;
  for (auto& o : t.take_outgoing()) {
    // A source the agent answered a check from is the peer's from now on, for DTLS and SRTP.
    if (t.ice().proven(o.to)) table_.learn(o.to, id);
    transmit(std::move(o.bytes), o.to);
  }
  peer_events* events = it->second.events;
  auto received = t.take_received();
  count(counters_.received, static_cast<std::int64_t>(received.size()));
  for (const auto& r : received) {
    events->on_media(r.kind, r.bytes);
    // The owner may have removed the peer from inside on_media.
    if (!peers_.contains(id)) return;
  }
  const transport::state now = t.current();
  if (now != it->second.reported &&
      (now == transport::state::connected || now == transport::state::failed || now == transport::state::closed)) {
    it->second.reported = now;
    if (now == transport::state::connected) count(counters_.connected);
    if (now == transport::state::failed) count(counters_.failed);
    const std::string why = t.failure();
    if (now != transport::state::connected) drop(id);  // ended: the owner hears it once, then it is gone
    events->on_state(now, why);
    return;
  }
  if (t.next_timeout() < timer_.expiry()) timer_.cancel();
}

void webrtc_port::on_datagram(std::span<const std::uint8_t> datagram, const endpoint& from) {
  auto id = table_.route(datagram, from);
  auto it = id ? peers_.find(*id) : peers_.end();
  if (it == peers_.end()) {
    count(counters_.strangers);
    return;
  }
  it->second.t->on_datagram(datagram, from, transport::clock::now());
  settle(*id);
}

void webrtc_port::transmit(std::vector<std::uint8_t> bytes, const endpoint& to) {
  if (!socket_.is_open()) return;
  if (tcp_ && tcp_->send(to, bytes)) return;  // a peer on an ICE-TCP connection
  if (backlog_.empty()) {
    const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (send_datagram_now(socket_.native_handle(), view, to)) return;
  }
  if (backlog_bytes_ + bytes.size() > max_backlog) {
    count(counters_.send_drops);
    return;
  }
  backlog_bytes_ += bytes.size();
  backlog_.emplace_back(to, std::move(bytes));
  if (!writing_ && running_) {
    writing_ = true;
    asio::co_spawn(home_.context(), write_loop(shared_from_this()), asio::detached);
  }
}

asio::awaitable<void> webrtc_port::write_loop(std::shared_ptr<webrtc_port> self) {
  while (running_ && !backlog_.empty()) {
    auto [ec] = co_await socket_.async_wait(udp::socket::wait_write, no_throw);
    if (ec || !running_ || !socket_.is_open()) break;
    while (!backlog_.empty()) {
      auto& [to, bytes] = backlog_.front();
      const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      if (!send_datagram_now(socket_.native_handle(), view, to)) break;  // full again: wait
      backlog_bytes_ -= bytes.size();
      backlog_.pop_front();
    }
  }
  writing_ = false;
}

// One wake-up when the socket is readable, then what is queued, in batches (drain_datagrams).
asio::awaitable<void> webrtc_port::receive_loop(std::shared_ptr<webrtc_port> self) {
  datagram_batch batch(16, 2048);
  while (running_) {
    auto [ec] = co_await socket_.async_wait(udp::socket::wait_read, no_throw);
    if (!running_ || ec == asio::error::operation_aborted || !socket_.is_open()) break;
    drain_datagrams(
        batch, socket_.native_handle(),
        [this](std::string_view d, const endpoint& from) {
          on_datagram({reinterpret_cast<const std::uint8_t*>(d.data()), d.size()}, from);
        },
        [this] { return running_; });
  }
}

// Sleeps until the earliest transport deadline (or until a peer comes or a deadline moves
// earlier, which cancels the wait), then runs what is due.
asio::awaitable<void> webrtc_port::timer_loop(std::shared_ptr<webrtc_port> self) {
  while (running_) {
    auto earliest = transport::clock::time_point::max();
    for (const auto& [id, p] : peers_) earliest = std::min(earliest, p.t->next_timeout());
    timer_.expires_at(earliest);
    co_await timer_.async_wait(no_throw);
    if (!running_) break;
    const auto now = transport::clock::now();
    std::vector<peer_id> due;
    for (const auto& [id, p] : peers_)
      if (p.t->next_timeout() <= now) due.push_back(id);
    for (peer_id id : due) {
      auto it = peers_.find(id);
      if (it == peers_.end()) continue;
      it->second.t->on_timer(now);
      settle(id);
    }
  }
}

}  // namespace junction::webrtc
