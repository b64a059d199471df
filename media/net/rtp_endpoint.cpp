#include "media/net/rtp_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/shard.hpp"
#include "media/rtp/packet.hpp"
#include "media/sdp/session.hpp"
#include "media/srtp/session.hpp"

namespace junction::media {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_datagram = 2048;

datagram_kind kind_of(std::span<const std::uint8_t> datagram) {
  return rtp::is_rtcp(datagram) ? datagram_kind::rtcp : datagram_kind::rtp;
}

}  // namespace

std::shared_ptr<rtp_endpoint> rtp_endpoint::open(junction::shard& home, const asio::ip::address& address,
                                                 rtp_endpoint_counters counters, boost::system::error_code& ec) {
  udp::socket socket(home.context());
  socket.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) socket.bind({address, 0}, ec);
  if (ec) return nullptr;
  return std::make_shared<rtp_endpoint>(home, std::move(socket), counters);
}

rtp_endpoint::rtp_endpoint(junction::shard& home, udp::socket socket, rtp_endpoint_counters counters)
    : home_(home), socket_(std::move(socket)), counters_(counters) {}

rtp_endpoint::~rtp_endpoint() = default;

bool rtp_endpoint::use_srtp(const sdp::crypto& local, const sdp::crypto& remote) {
  auto suite = srtp::parse_suite(local.suite);
  if (!suite) return false;
  auto ours = srtp::parse_inline_key(local.key_params, *suite);
  auto theirs = srtp::parse_inline_key(remote.key_params, *suite);
  if (!ours || !theirs) return false;
  srtp_out_ = srtp::session::create(*suite, *ours, srtp::session::direction::outbound);
  srtp_in_ = srtp::session::create(*suite, *theirs, srtp::session::direction::inbound);
  return srtp_out_ && srtp_in_;
}

void rtp_endpoint::start(rtp_receiver& receiver) {
  if (running_ || !socket_.is_open()) return;
  receiver_ = &receiver;
  running_ = true;
  last_received_ = std::chrono::steady_clock::now();
  asio::co_spawn(home_.context(), receive_loop(shared_from_this()), asio::detached);
}

std::uint16_t rtp_endpoint::local_port() const {
  boost::system::error_code ec;
  auto local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void rtp_endpoint::stop() {
  // The receiver and the tap are not touched: stop() may be called from inside either, and
  // running_ keeps them from being called again.
  running_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
}

asio::awaitable<void> rtp_endpoint::receive_loop(std::shared_ptr<rtp_endpoint> self) {
  // Plain RTP is handed on from the receive buffer itself; only SRTP, unprotected in place,
  // needs a copy of the datagram's own size.
  std::vector<std::uint8_t> buffer(max_datagram), unprotected;
  udp::endpoint from;
  while (running_) {
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer), from, no_throw);
    if (!running_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      continue;  // ICMP port unreachable and the like: the peer may not be listening yet
    }
    std::span<const std::uint8_t> datagram{buffer.data(), n};
    const auto kind = kind_of(datagram);
    if (srtp_in_) {
      // Whatever fails authentication is dropped (and counted).
      unprotected.assign(datagram.begin(), datagram.end());
      auto status =
          kind == datagram_kind::rtcp ? srtp_in_->unprotect_rtcp(unprotected) : srtp_in_->unprotect_rtp(unprotected);
      if (status != srtp::status::ok) {
        if (counters_.srtp_failures) home_.metrics().add(*counters_.srtp_failures);
        continue;
      }
      datagram = unprotected;
    }
    last_received_ = std::chrono::steady_clock::now();
    remote_ = from;  // symmetric RTP
    if (kind == datagram_kind::rtp && counters_.received_rtp) home_.metrics().add(*counters_.received_rtp);
    if (tap_) tap_(kind, datagram);
    if (!running_) break;  // the tap may stop the endpoint
    receiver_->on_datagram(kind, datagram);
  }
}

bool rtp_endpoint::send(std::span<const std::uint8_t> datagram) {
  if (!running_ || remote_.port() == 0) return false;
  const auto kind = kind_of(datagram);
  if (!sending_ && kind == datagram_kind::rtp) return false;
  if (srtp_out_) {
    scratch_.assign(datagram.begin(), datagram.end());
    auto status = kind == datagram_kind::rtcp ? srtp_out_->protect_rtcp(scratch_) : srtp_out_->protect_rtp(scratch_);
    if (status != srtp::status::ok) return false;
    datagram = scratch_;
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(datagram.data(), datagram.size()), remote_, 0, ec);
  if (ec) return false;
  if (counters_.sent) home_.metrics().add(*counters_.sent);
  return true;
}

}  // namespace junction::media
