#include "gateway/video_leg.hpp"

#include "core/log.hpp"
#include "media/rtp/rtcp.hpp"
#include "media/sdp/negotiation.hpp"
#include "transcode/video_transcoder.hpp"

namespace junction::gateway {
namespace {

media::h264::packetizer_settings packetizer_for(const media::sdp::codec& c, std::uint32_t ssrc,
                                                std::uint16_t sequence, std::uint32_t timestamp) {
  media::h264::packetizer_settings s;
  s.payload_type = c.payload_type;
  s.ssrc = ssrc;
  s.first_sequence = sequence;
  s.first_timestamp = timestamp;
  s.packetization_mode = media::sdp::fmtp_value(c.fmtp, "packetization-mode") == "0" ? 0 : 1;
  return s;
}

}  // namespace

struct video_leg::transcoding {
  std::unique_ptr<transcode::video_transcoder> transcoder;
  bool failed = false;
  bool keyframe_wanted = false;
};

video_leg::video_leg(leg_context context, boost::asio::ip::udp::socket socket, video_leg_setup setup)
    : rtp_leg(std::move(context), std::move(socket)),
      setup_(std::move(setup)),
      packetizer_(packetizer_for(setup_.phone_codec, ssrc_, sequence_, timestamp_base_)) {
  // Parameter sets the phone announced in its SDP come first to the client.
  if (auto sprop = media::sdp::fmtp_value(setup_.phone_codec.fmtp, "sprop-parameter-sets"); !sprop.empty())
    if (auto sets = media::h264::parse_sprop(sprop)) depacketizer_.set_parameter_sets(std::move(*sets));
}

video_leg::~video_leg() = default;

// Client -> phone ----------------------------------------------------------------------------

void video_leg::on_frame(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  if (!running() || !frame.is_video()) return;
  if (frame.codec == media::codec::h264) {
    to_phone(frame);
    return;
  }
  if (frame.codec != media::codec::sorenson_h263) return;  // nothing else goes to a phone
  if (!sorenson_) sorenson_ = std::make_shared<transcoding>();
  on_worker([t = sorenson_, frame](const shard_return& back) {
    if (t->failed) return;
    if (!t->transcoder) {
      std::string why;
      t->transcoder = transcode::video_transcoder::create(media::codec::sorenson_h263, {}, &why);
      if (!t->transcoder) {
        t->failed = true;
        log::warn("gateway: cannot transcode Sorenson H.263 to H.264: {}", why);
        return;
      }
    }
    if (std::exchange(t->keyframe_wanted, false)) t->transcoder->request_keyframe();
    std::vector<media::frame> out;
    t->transcoder->push(frame, out);
    if (out.empty()) return;
    back([out = std::move(out)](rtp_leg& leg) {
      for (const auto& f : out) static_cast<video_leg&>(leg).to_phone(f);
    });
  });
}

void video_leg::to_phone(const media::frame& f) {
  std::vector<std::vector<std::uint8_t>> datagrams;
  packetizer_.packetize(f, datagrams);
  for (const auto& d : datagrams) send_datagram(d);
}

void video_leg::on_rtcp(std::span<const std::uint8_t> datagram) {
  auto rtcp = media::rtp::parse_rtcp(datagram);
  for (const auto& p : rtcp.packets) {
    const auto* fb = std::get_if<media::rtp::feedback>(&p);
    if (!fb || (fb->what != media::rtp::feedback::kind::pli && fb->what != media::rtp::feedback::kind::fir)) continue;
    // A transcoded stream can send an IDR at once; a Flash client's own H.264 cannot be asked,
    // its next keyframe comes when the encoder sends it.
    if (sorenson_) on_worker([t = sorenson_](const shard_return&) { t->keyframe_wanted = true; });
  }
}

// Phone -> client ----------------------------------------------------------------------------

void video_leg::on_packet(const media::rtp::packet& p) {
  if (p.header.payload_type != setup_.phone_codec.payload_type) return;
  std::vector<media::frame> frames;
  depacketizer_.push(p, frames);
  for (auto& f : frames)
    if (ctx_.to_client) ctx_.to_client(std::move(f));
  if (depacketizer_.wants_keyframe()) ask_for_keyframe(p.header.ssrc);
}

void video_leg::ask_for_keyframe(std::uint32_t media_ssrc) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_pli_ < std::chrono::seconds(1)) return;
  last_pli_ = now;
  std::vector<std::uint8_t> pli;
  media::rtp::write_pli(ssrc_, media_ssrc, pli);
  send_datagram(pli);
}

}  // namespace junction::gateway
