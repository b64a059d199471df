#pragma once
// The audio of one gateway call: RTP to and from the phone on one UDP socket (RTCP muxed),
// FLV audio to and from the RTMP client through the stream hub (the client publishes `local`,
// which this leg reads as a sink, and plays `remote`, which this leg publishes).
//
// Audio the other side cannot take is transcoded on a worker of the transcode pool, never on
// the shard: the shard posts packets to the call's worker and the worker posts results back.
// What is already in the other side's codec passes through untouched. DTMF goes both ways as
// RFC 4733 telephone-events.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "media/frame.hpp"
#include "media/rtp/dtmf.hpp"
#include "media/sdp/session.hpp"
#include "media/sink.hpp"
#include "transcode/audio_format.hpp"

namespace junction {
class shard;
}
namespace junction::media {
class stream_hub;
class publication;
}
namespace junction::transcode {
class worker_pool;
}

namespace junction::gateway {

struct gateway_metrics;

struct audio_leg_setup {
  std::string remote_address;  // the phone's RTP address and port (from its SDP)
  std::uint16_t remote_port = 0;
  media::sdp::codec phone_codec;                 // what is sent to the phone (payload type, name)
  transcode::audio_format phone_format;          // the same as the transcoder sees it
  std::optional<std::uint8_t> telephone_event;   // its payload type, when agreed
  transcode::audio_format client_format;         // what the RTMP client is sent
  std::uint32_t ptime = 20;
  std::string local_key, remote_key;             // hub keys of the client's streams
  std::chrono::milliseconds rtp_timeout{30'000};
};

// The frame-model codec an SDP codec names, with its sample rate and channels; nothing for
// codecs the gateway does not carry as audio.
std::optional<transcode::audio_format> audio_format_of(const media::sdp::codec& c);

class audio_leg : public media::sink, public std::enable_shared_from_this<audio_leg> {
 public:
  struct callbacks {
    std::function<void(char)> dtmf;          // a key the phone pressed
    std::function<void()> timed_out;         // no RTP for rtp_timeout
  };
  audio_leg(junction::shard& home, media::stream_hub& hub, transcode::worker_pool& pool,
            const gateway_metrics& metrics, boost::asio::ip::udp::socket rtp);
  ~audio_leg() override;

  // Starts both directions: subscribes to the client's stream, publishes the phone's.
  void start(audio_leg_setup setup, callbacks cb);
  // Ends both directions; callbacks are not called afterwards.
  void stop();
  bool send_dtmf(char key);

  // media::sink: the client's published audio.
  void on_start() override {}
  void on_frame(const media::shard_frame_ptr& f) override;
  void on_stop() override {}

 private:
  struct direction;  // one transcoding direction's state, shared with its worker
  boost::asio::awaitable<void> publish_remote();
  boost::asio::awaitable<void> receive_loop();
  boost::asio::awaitable<void> watchdog();
  void on_datagram(std::span<const std::uint8_t> datagram, const boost::asio::ip::udp::endpoint& from);
  void send_rtp(std::uint8_t payload_type, std::span<const std::uint8_t> payload, std::uint32_t timestamp,
                bool marker);
  void to_phone(std::span<const std::uint8_t> packet, std::uint32_t rtp_timestamp);
  void to_client(std::span<const std::uint8_t> packet, std::uint32_t timestamp_ms);

  junction::shard& home_;
  media::stream_hub& hub_;
  transcode::worker_pool& pool_;
  const gateway_metrics& metrics_;
  boost::asio::ip::udp::socket rtp_;
  boost::asio::steady_timer watchdog_timer_;
  std::size_t worker_ = 0;
  bool worker_assigned_ = false, running_ = false, subscribed_ = false;
  audio_leg_setup setup_;
  callbacks cb_;
  boost::asio::ip::udp::endpoint remote_;
  std::unique_ptr<media::publication> remote_stream_;

  // Sending: our SSRC, sequence and timestamp base.
  std::uint32_t ssrc_ = 0;
  std::uint16_t sequence_ = 0;
  std::uint32_t timestamp_base_ = 0;
  std::optional<std::uint32_t> first_client_ms_;  // the client's first audio timestamp
  std::uint32_t last_sent_timestamp_ = 0;
  std::chrono::steady_clock::time_point last_sent_at_;
  bool sent_any_ = false;
  std::shared_ptr<direction> encode_, decode_;     // client->phone, phone->client

  // Receiving.
  std::optional<std::uint32_t> first_rtp_timestamp_;
  std::chrono::steady_clock::time_point last_rtp_;
  media::rtp::dtmf_receiver dtmf_in_;
  std::vector<std::uint8_t> aac_config_;  // the client's AAC AudioSpecificConfig, when it sends AAC
};

}  // namespace junction::gateway
