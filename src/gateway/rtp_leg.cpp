#include "gateway/rtp_leg.hpp"

#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "gateway/service.hpp"
#include "media/sdp/session.hpp"
#include "media/srtp/session.hpp"
#include "media/stream_hub.hpp"
#include "transcode/worker_pool.hpp"

namespace junction::gateway {
namespace {

namespace asio = boost::asio;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

}  // namespace

rtp_leg::rtp_leg(leg_context context, asio::ip::udp::socket socket)
    : ctx_(std::move(context)), socket_(std::move(socket)) {
  std::random_device rd;
  ssrc_ = rd();
  sequence_ = static_cast<std::uint16_t>(rd());
  timestamp_base_ = rd();
}

rtp_leg::~rtp_leg() = default;

bool rtp_leg::use_srtp(const media::sdp::crypto& local, const media::sdp::crypto& remote) {
  auto suite = media::srtp::parse_suite(local.suite);
  if (!suite) return false;
  auto ours = media::srtp::parse_inline_key(local.key_params, *suite);
  auto theirs = media::srtp::parse_inline_key(remote.key_params, *suite);
  if (!ours || !theirs) return false;
  srtp_out_ = media::srtp::session::create(*suite, *ours, media::srtp::session::direction::outbound);
  srtp_in_ = media::srtp::session::create(*suite, *theirs, media::srtp::session::direction::inbound);
  return srtp_out_ && srtp_in_;
}

void rtp_leg::start(const std::string& remote_address, std::uint16_t remote_port) {
  boost::system::error_code ec;
  remote_ = {asio::ip::make_address(remote_address, ec), remote_port};
  if (ec) log::info("gateway: the phone's RTP address '{}' is not an IP address", remote_address);
  running_ = true;
  last_received_ = std::chrono::steady_clock::now();
  ctx_.hub->subscribe(ctx_.local_key, *this);
  subscribed_ = true;
  asio::co_spawn(ctx_.home->context(), receive_loop(shared_from_this()), asio::detached);
}

void rtp_leg::retarget(const std::string& remote_address, std::uint16_t remote_port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(remote_address, ec);
  if (!ec && remote_port) remote_ = {address, remote_port};
}

std::uint16_t rtp_leg::local_port() const {
  boost::system::error_code ec;
  auto local = socket_.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void rtp_leg::stop() {
  if (!running_) return;
  running_ = false;
  if (subscribed_) ctx_.hub->unsubscribe(ctx_.local_key, *this);
  subscribed_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
  ctx_.home->metrics().sub(ctx_.metrics->rtp_ports);
  on_stopped();
}

asio::awaitable<void> rtp_leg::receive_loop(std::shared_ptr<rtp_leg> self) {
  std::vector<std::uint8_t> buffer(2048);
  asio::ip::udp::endpoint from;
  while (running_) {
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer), from, no_throw);
    if (!running_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      continue;  // ICMP port unreachable and the like: the phone may not be listening yet
    }
    std::span<const std::uint8_t> datagram{buffer.data(), n};
    if (srtp_in_) {
      // Unprotected in place; whatever fails authentication is dropped (and counted).
      std::vector<std::uint8_t> packet(datagram.begin(), datagram.end());
      const bool rtcp = media::rtp::is_rtcp(datagram);
      auto status = rtcp ? srtp_in_->unprotect_rtcp(packet) : srtp_in_->unprotect_rtp(packet);
      if (status != media::srtp::status::ok) {
        ctx_.home->metrics().add(ctx_.metrics->srtp_failures);
        continue;
      }
      std::copy(packet.begin(), packet.end(), buffer.begin());
      datagram = {buffer.data(), packet.size()};
    }
    last_received_ = std::chrono::steady_clock::now();
    // Symmetric RTP: answer where the phone really sends from (it may be behind a NAT).
    if (from != remote_) remote_ = from;
    if (media::rtp::is_rtcp(datagram)) {
      on_rtcp(datagram);
      continue;
    }
    auto parsed = media::rtp::parse_packet(datagram);
    if (!parsed.ok()) continue;
    ctx_.home->metrics().add(ctx_.metrics->rtp_in);
    on_packet(*parsed.packet);
  }
}

void rtp_leg::send_datagram(std::span<const std::uint8_t> datagram) {
  if (!running_ || remote_.port() == 0) return;
  if (!sending_ && !media::rtp::is_rtcp(datagram)) return;
  if (srtp_out_) {
    scratch_.assign(datagram.begin(), datagram.end());
    auto status = media::rtp::is_rtcp(datagram) ? srtp_out_->protect_rtcp(scratch_) : srtp_out_->protect_rtp(scratch_);
    if (status != media::srtp::status::ok) return;
    datagram = scratch_;
  }
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(datagram.data(), datagram.size()), remote_, 0, ec);
  if (!ec) ctx_.home->metrics().add(ctx_.metrics->rtp_out);
}

void rtp_leg::send_rtp(std::uint8_t payload_type, std::span<const std::uint8_t> payload, std::uint32_t timestamp,
                       bool marker) {
  media::rtp::header h;
  h.payload_type = payload_type;
  h.marker = marker;
  h.sequence = sequence_++;
  h.timestamp = timestamp;
  h.ssrc = ssrc_;
  std::vector<std::uint8_t> datagram;
  datagram.reserve(12 + payload.size());
  media::rtp::write_packet(h, payload, datagram);
  send_datagram(datagram);
}

void rtp_leg::on_worker(std::function<void(const shard_return& back)> job) {
  ctx_.pool->post(ctx_.worker, [job = std::move(job), back = shard_return{weak_from_this(), ctx_.home}] { job(back); });
}

void rtp_leg::shard_return::operator()(std::function<void(rtp_leg&)> f) const {
  asio::post(home->context(), [leg = leg, f = std::move(f)] {
    if (auto self = leg.lock(); self && self->running_) f(*self);
  });
}

}  // namespace junction::gateway
