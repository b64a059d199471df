#pragma once
// A call whose two ends are both gateways (another Junction, or siprtmp): the x-flv/90000 RTP
// payload (media/xflv/) carries the client's RTMP messages, audio, video and data alike, and
// the far client gets them unchanged, whatever their codecs. One leg on the video m= line; the
// audio m= line is not used (siprtmp's rule).
#include "gateway/rtp_leg.hpp"
#include "media/xflv/rtp_payload.hpp"

namespace junction::gateway {

class xflv_leg final : public rtp_leg {
 public:
  xflv_leg(leg_context context, boost::asio::ip::udp::socket socket, std::uint8_t payload_type)
      : rtp_leg(std::move(context), std::move(socket)), payload_type_(payload_type) {}

  void on_frame(const media::shard_frame_ptr& f) override;

 private:
  void on_packet(const media::rtp::packet& p) override;

  std::uint8_t payload_type_;
  media::xflv::packetizer packetizer_;
  media::xflv::depacketizer depacketizer_;
};

}  // namespace junction::gateway
