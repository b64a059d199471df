#pragma once
// What the audio and video legs of a gateway call share: an RTP endpoint towards the phone
// (media/net/rtp_endpoint: one port for RTP and RTCP, SRTP, symmetric RTP), the RTP sender's
// state, the subscription to the client's published stream, and the way to the client's played
// stream.
// Transcoding runs on the call's worker of the transcode pool, never on the shard.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "media/frame.hpp"
#include "media/net/rtp_endpoint.hpp"
#include "media/rtp/packet.hpp"
#include "media/sink.hpp"

namespace junction {
class shard;
}
namespace junction::media {
class stream_hub;
}
namespace junction {
class worker_pool;
}
namespace junction::recording {
class call_recording;
}
namespace junction::media::sdp {
struct crypto;
}

namespace junction::gateway {

struct gateway_metrics;

// What every leg needs from its call.
struct leg_context {
  junction::shard* home = nullptr;
  media::stream_hub* hub = nullptr;
  worker_pool* pool = nullptr;
  std::size_t worker = 0;                          // the call's transcoding worker
  const gateway_metrics* metrics = nullptr;
  std::string local_key;                           // the client's published stream (hub key)
  std::function<void(media::frame)> to_client;     // into the client's played stream
  std::shared_ptr<recording::call_recording> recording;  // when the call is recorded
};

class rtp_leg : public media::sink, public media::rtp_receiver, public std::enable_shared_from_this<rtp_leg> {
 public:
  rtp_leg(leg_context context, boost::asio::ip::udp::socket socket);
  ~rtp_leg() override;
  rtp_leg(const rtp_leg&) = delete;
  rtp_leg& operator=(const rtp_leg&) = delete;

  // SDES-SRTP (RFC 4568) as agreed: our key protects what we send, the phone's unprotects what
  // it sends. False when a key cannot be used (then the call should not go on).
  bool use_srtp(const media::sdp::crypto& local, const media::sdp::crypto& remote);
  // Starts receiving from, and sending to, the phone's address (from its SDP).
  void start(const std::string& remote_address, std::uint16_t remote_port);
  // The phone's media moved (a re-INVITE gave a new address or port).
  void retarget(const std::string& remote_address, std::uint16_t remote_port);
  // Hold (RFC 3264 §8.4): while the phone takes none of our media, only RTCP is sent to it.
  void set_sending(bool on) noexcept { endpoint_->set_sending(on); }
  std::uint16_t local_port() const;
  // Ends both directions and closes the socket; nothing is called back afterwards.
  void stop();
  bool running() const noexcept { return running_; }
  // A recording started mid-call (on API request).
  void set_recording(std::shared_ptr<recording::call_recording> r) { ctx_.recording = std::move(r); }
  std::chrono::steady_clock::time_point last_received() const noexcept { return endpoint_->last_received(); }

  // media::sink: the client's published stream (each leg takes its own track).
  void on_start() override {}
  void on_stop() override {}
  // media::rtp_receiver: what the phone sends.
  void on_datagram(media::datagram_kind kind, std::span<const std::uint8_t> datagram) override;

 protected:
  virtual void on_packet(const media::rtp::packet& p) = 0;
  virtual void on_rtcp(std::span<const std::uint8_t> datagram) { (void)datagram; }
  virtual void on_stopped() {}
  void send_datagram(std::span<const std::uint8_t> datagram);
  void send_rtp(std::uint8_t payload_type, std::span<const std::uint8_t> payload, std::uint32_t timestamp,
                bool marker);
  // How a worker's job hands results back: `back(f)` runs f(leg) on the shard if the leg still
  // runs by then. The job itself must not touch the leg: it may be gone.
  struct shard_return {
    std::weak_ptr<rtp_leg> leg;
    junction::shard* home = nullptr;
    void operator()(std::function<void(rtp_leg&)> f) const;
  };
  // Runs `job` on the call's worker, after the jobs posted before it.
  void on_worker(std::function<void(const shard_return& back)> job);

  leg_context ctx_;
  std::uint32_t ssrc_ = 0;
  std::uint16_t sequence_ = 0;
  std::uint32_t timestamp_base_ = 0;

 private:
  std::shared_ptr<media::rtp_endpoint> endpoint_;
  std::vector<std::uint8_t> packet_;  // an RTP packet being written
  bool running_ = false, subscribed_ = false;
};

}  // namespace junction::gateway
