#include "whip/video_layer.hpp"

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/h264/sps.hpp"
#include "media/rtp/rtcp.hpp"

namespace junction::whip {
namespace {

// What VP8 becomes for RTMP players: H.264 at a rate a browser's camera picture needs.
const transcode::video_settings h264_settings{.codec = media::codec::h264, .bitrate = 1'500'000,
                                              .keyframe_interval = 100, .max_width = 1920, .max_height = 1080};

// An RTX packet (RFC 4588 §4) back into the packet it repeats: the original sequence number
// leads its payload; the SSRC is the media stream's.
std::optional<std::vector<std::uint8_t>> unwrap_rtx(const media::rtp::packet& p, std::uint8_t payload_type,
                                                    std::uint32_t ssrc) {
  if (p.payload.size() < 2 || ssrc == 0) return std::nullopt;  // padding-only probes carry no packet
  media::rtp::header h = p.header;
  h.payload_type = payload_type;
  h.ssrc = ssrc;
  h.sequence = static_cast<std::uint16_t>(p.payload[0] << 8 | p.payload[1]);
  std::vector<std::uint8_t> out;
  media::rtp::write_packet(h, p.payload.subspan(2), out);
  return out;
}

}  // namespace

video_layer::video_layer(settings s, owner& o, junction::shard& home, worker_pool& workers, std::size_t worker)
    : s_(std::move(s)), owner_(o), home_(home), workers_(workers), worker_(worker) {}

std::uint64_t video_layer::missing() const { return losses_.stats().missing; }

void video_layer::on_packet(std::span<const std::uint8_t> datagram, const media::rtp::packet& p) {
  if (p.header.payload_type == s_.payload_type) {
    bytes_ += datagram.size();
    ++packets_;
    on_media_packet(datagram, p.header.sequence, p.header.ssrc, false);
  } else if (s_.rtx_payload_type && p.header.payload_type == *s_.rtx_payload_type) {
    rtx_ssrc_ = p.header.ssrc;
    if (auto original = unwrap_rtx(p, s_.payload_type, ssrc_))
      on_media_packet(*original, static_cast<std::uint16_t>(p.payload[0] << 8 | p.payload[1]), ssrc_, true);
  }
}

void video_layer::on_media_packet(std::span<const std::uint8_t> datagram, std::uint16_t sequence, std::uint32_t ssrc,
                                  bool retransmission) {
  const auto now = clock::now();
  if (!offset_) offset_ = owner_.offset_now();
  // NACKs and PLIs name the media stream's SSRC (an RTX stream has its own).
  if (!retransmission) ssrc_ = ssrc;
  losses_.on_packet(sequence, now);
  send_nacks(losses_.due(now));
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  order_.push({datagram.begin(), datagram.end()}, sequence, us);
  drain(now);
}

void video_layer::tick(clock::time_point now) {
  drain(now);
  send_nacks(losses_.due(now));
  if (keyframe_wanted_) send_pli_when_due();
}

void video_layer::send_nacks(const std::vector<std::uint16_t>& lost) {
  if (lost.empty() || !ssrc_) return;
  std::vector<std::uint8_t> out;
  media::rtp::write_nack(s_.local_ssrc, ssrc_, lost, out);
  owner_.count_nacked(lost.size());
  owner_.send_layer_rtcp(std::move(out));
}

void video_layer::drain(clock::time_point now) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::vector<media::rtp::jitter_buffer::entry> ready;
  order_.pop_ready(us, ready);
  for (const auto& e : ready)
    if (auto parsed = media::rtp::parse_packet(e.datagram); parsed.ok()) on_ordered(*parsed.packet);
}

void video_layer::on_ordered(const media::rtp::packet& p) {
  std::vector<media::frame> frames;
  if (s_.vp8) {
    vp8_.push(p, frames);
    for (auto& f : frames) {
      got(f);
      f.timestamp += *offset_;
      transcode(std::move(f));
    }
    // Without a transcoder nobody needs the picture: no keyframe is asked for.
    if (vp8_.wants_keyframe() && transcoder_) ask_browser_for_keyframe();
    return;
  }
  h264_.push(p, frames);
  for (auto& f : frames) {
    got(f);
    f.timestamp += *offset_;
    emit(std::move(f));
  }
  if (h264_.wants_keyframe()) ask_browser_for_keyframe();
}

void video_layer::emit(media::frame f) {
  if (f.config) sequence_header_ = f;
  owner_.on_layer_frame(*this, std::move(f));
}

void video_layer::got(const media::frame& f) {
  if (f.keyframe && !f.config) keyframe_wanted_ = false;
  if (s_.vp8 && f.keyframe) {
    if (auto size = media::vp8::keyframe_size(media::vp8::frame_data(f))) area_ = std::uint64_t{size->width} * size->height;
  } else if (auto size = media::h264::sequence_header_picture_size(f)) {
    area_ = std::uint64_t{size->width} * size->height;
  }
}

void video_layer::ask_browser_for_keyframe() {
  keyframe_wanted_ = true;
  send_pli_when_due();
}

void video_layer::send_pli_when_due() {
  const auto now = clock::now();
  if (!ssrc_ || now - last_pli_ < std::chrono::milliseconds(500)) return;
  std::vector<std::uint8_t> pli;
  media::rtp::write_pli(s_.local_ssrc, ssrc_, pli);
  if (owner_.send_layer_rtcp(std::move(pli))) last_pli_ = now;
}

void video_layer::request_keyframe() {
  if (auto t = transcoder_) workers_.post(worker_, [t] { t->request_keyframe(); });
  else ask_browser_for_keyframe();
}

void video_layer::set_transcoding(bool on) {
  if (!s_.vp8 || on == (transcoder_ != nullptr)) return;
  ++generation_;
  transcoder_.reset();
  if (!on) return;
  std::string why;
  transcoder_ = transcode::video_transcoder::create(media::codec::vp8, h264_settings, &why);
  if (!transcoder_) log::warn("whip: VP8 cannot be transcoded: {}", why);
  transcoder_waits_for_keyframe_ = true;
  ask_browser_for_keyframe();
}

void video_layer::transcode(media::frame f) {
  auto t = transcoder_;
  if (!t) return;
  if (transcoder_waits_for_keyframe_ && !f.keyframe) return;  // the decoder starts at one (asked for)
  transcoder_waits_for_keyframe_ = false;
  workers_.post(worker_, [t, f = std::move(f), life = owner_.lifetime(), self = weak_from_this(), home = &home_,
                           generation = generation_] {
    std::vector<media::frame> out;
    t->push(f, out);
    if (out.empty()) return;
    boost::asio::post(home->context(), [life, self, out = std::move(out), generation] {
      auto keep = life.lock();
      auto me = self.lock();
      if (!keep || !me || me->generation_ != generation) return;
      for (auto& frame : out) me->emit(std::move(frame));
    });
  });
}

}  // namespace junction::whip
