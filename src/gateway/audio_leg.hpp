#pragma once
// The audio of one gateway call. Client -> phone: the FLV audio the client publishes becomes RTP
// in the codec agreed with the phone; phone -> client: the phone's RTP becomes FLV audio the
// client can play (Speex 16 kHz, or G.711 for a client that sends G.711 itself). Audio already in
// the other side's codec passes through untouched; the rest is transcoded on the call's worker.
// DTMF goes both ways as RFC 4733 telephone-events.
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/rtp_leg.hpp"
#include "media/rtp/dtmf.hpp"
#include "media/sdp/session.hpp"
#include "transcode/audio_direction.hpp"

namespace junction::gateway {

struct audio_leg_setup {
  media::sdp::codec phone_codec;                // what is sent to the phone (payload type, name)
  transcode::audio_format phone_format;         // the same as the transcoder sees it
  std::optional<std::uint8_t> telephone_event;  // its payload type, when agreed
  transcode::audio_format client_format;        // what the RTMP client is sent
  std::uint32_t ptime = 20;
  std::function<void(char)> on_dtmf;            // a key the phone pressed
};

class audio_leg final : public rtp_leg {
 public:
  audio_leg(leg_context context, boost::asio::ip::udp::socket socket, audio_leg_setup setup);
  ~audio_leg() override;

  // RFC 4733 events for the keys, one after the other; false when DTMF was not agreed or a key
  // is not a DTMF key.
  bool send_dtmf(std::string_view keys);
  void on_frame(const media::shard_frame_ptr& f) override;

 private:
  using direction = transcode::audio_direction;  // used only on the worker
  void on_packet(const media::rtp::packet& p) override;
  void on_stopped() override { setup_.on_dtmf = nullptr; }
  void to_phone(std::span<const std::uint8_t> packet, std::uint32_t rtp_timestamp);
  void to_client(std::span<const std::uint8_t> packet, std::uint32_t timestamp_ms);
  void transcode(std::shared_ptr<direction> dir, std::vector<std::uint8_t> packet, bool towards_phone);
  static boost::asio::awaitable<void> send_events(std::shared_ptr<audio_leg> self, std::uint8_t payload_type,
                                                  std::vector<media::rtp::dtmf_packet> packets);

  audio_leg_setup setup_;
  std::shared_ptr<direction> encode_, decode_;  // client -> phone, phone -> client
  std::vector<std::uint8_t> aac_config_;        // the client's AAC AudioSpecificConfig, if it sends AAC
  std::optional<std::uint32_t> first_client_ms_;
  std::optional<std::uint32_t> first_rtp_timestamp_;
  std::uint32_t last_sent_timestamp_ = 0;
  std::chrono::steady_clock::time_point last_sent_at_;
  bool sent_any_ = false;
  media::rtp::dtmf_receiver dtmf_in_;
};

}  // namespace junction::gateway
