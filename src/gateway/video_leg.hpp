#pragma once
// The video of one gateway call, H.264 over RTP (RFC 6184) towards the phone. Client -> phone:
// H.264 from the client is packetized as it is; Sorenson H.263 from old Flash clients is
// transcoded to H.264 on the call's worker first. Phone -> client: the phone's H.264 is
// depacketized into FLV AVC frames (sequence header first). Keyframe requests: a phone's PLI or
// FIR makes the transcoder send an IDR; and while the phone's stream cannot be decoded (after a
// loss, or before its first IDR) the leg asks the phone with a PLI, once a second at most.
#include <chrono>
#include <memory>
#include <optional>

#include "gateway/rtp_leg.hpp"
#include "media/h264/rtp_payload.hpp"
#include "media/sdp/session.hpp"

namespace junction::gateway {

struct video_leg_setup {
  media::sdp::codec phone_codec;  // H264 with its payload type and fmtp
};

class video_leg final : public rtp_leg {
 public:
  video_leg(leg_context context, boost::asio::ip::udp::socket socket, video_leg_setup setup);
  ~video_leg() override;

  void on_frame(const media::shard_frame_ptr& f) override;

 private:
  struct transcoding;  // Sorenson -> H.264, used only on the worker
  void on_packet(const media::rtp::packet& p) override;
  void on_rtcp(std::span<const std::uint8_t> datagram) override;
  void to_phone(const media::frame& f);
  void ask_for_keyframe(std::uint32_t media_ssrc);

  video_leg_setup setup_;
  media::h264::rtp_packetizer packetizer_;
  media::h264::rtp_depacketizer depacketizer_;
  std::shared_ptr<transcoding> sorenson_;
  std::chrono::steady_clock::time_point last_pli_{};
};

}  // namespace junction::gateway
