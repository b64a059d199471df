#include "gateway/rtp_leg.hpp"

#include <optional>
#include <random>

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "gateway/service.hpp"
#include "media/stream_hub.hpp"
#include "core/worker_pool.hpp"

namespace junction::gateway {
namespace {

namespace asio = boost::asio;

}  // namespace

rtp_leg::rtp_leg(leg_context context, asio::ip::udp::socket socket) : ctx_(std::move(context)) {
  std::random_device rd;
  ssrc_ = rd();
  sequence_ = static_cast<std::uint16_t>(rd());
  timestamp_base_ = rd();
  media::rtp_endpoint_counters counters;
  counters.received_rtp = ctx_.metrics->rtp_in;
  counters.sent = ctx_.metrics->rtp_out;
  counters.srtp_failures = ctx_.metrics->srtp_failures;
  endpoint_ = std::make_shared<media::rtp_endpoint>(*ctx_.home, std::move(socket), counters);
}

rtp_leg::~rtp_leg() = default;

bool rtp_leg::use_srtp(const media::sdp::crypto& local, const media::sdp::crypto& remote) {
  return endpoint_->use_srtp(local, remote);
}

namespace {

std::optional<asio::ip::udp::endpoint> endpoint_of(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return std::nullopt;
  return asio::ip::udp::endpoint{ip, port};
}

}  // namespace

void rtp_leg::start(const std::string& remote_address, std::uint16_t remote_port) {
  if (auto remote = endpoint_of(remote_address, remote_port))
    endpoint_->set_remote(*remote);
  else
    log::info("gateway: the phone's RTP address '{}' is not an IP address", remote_address);
  running_ = true;
  ctx_.hub->subscribe(ctx_.local_key, *this);
  subscribed_ = true;
  endpoint_->start(*this);
}

void rtp_leg::retarget(const std::string& remote_address, std::uint16_t remote_port) {
  auto remote = endpoint_of(remote_address, remote_port);
  if (remote && remote_port) endpoint_->set_remote(*remote);
}

std::uint16_t rtp_leg::local_port() const { return endpoint_->local_port(); }

void rtp_leg::stop() {
  if (!running_) return;
  running_ = false;
  if (subscribed_) ctx_.hub->unsubscribe(ctx_.local_key, *this);
  subscribed_ = false;
  endpoint_->stop();
  ctx_.home->metrics().sub(ctx_.metrics->rtp_ports);
  on_stopped();
}

void rtp_leg::on_datagram(media::datagram_kind kind, std::span<const std::uint8_t> datagram) {
  if (kind == media::datagram_kind::rtcp) {
    on_rtcp(datagram);
    return;
  }
  auto parsed = media::rtp::parse_packet(datagram);
  if (parsed.ok()) on_packet(*parsed.packet);
}

void rtp_leg::send_datagram(std::span<const std::uint8_t> datagram) {
  if (running_) endpoint_->send(datagram);
}

void rtp_leg::send_rtp(std::uint8_t payload_type, std::span<const std::uint8_t> payload, std::uint32_t timestamp,
                       bool marker) {
  media::rtp::header h;
  h.payload_type = payload_type;
  h.marker = marker;
  h.sequence = sequence_++;
  h.timestamp = timestamp;
  h.ssrc = ssrc_;
  packet_.clear();
  packet_.reserve(12 + payload.size());
  media::rtp::write_packet(h, payload, packet_);
  send_datagram(packet_);
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
