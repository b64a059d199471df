#include "whip/publisher.hpp"

#include <cstring>

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/rtp/header_extension.hpp"
#include "media/rtp/rtcp.hpp"

namespace junction::whip {
namespace {

// What browsers send (RFC 7587: the RTP clock is 48 kHz, two channels whatever is sent) and what
// RTMP and FLV players take.
const transcode::audio_format opus_format{media::codec::opus, 48000, 2};
const transcode::audio_format aac_format{media::codec::aac, 48000, 2};

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

// What VP8 becomes for RTMP players: H.264 at a rate a browser's camera picture needs.
const transcode::video_settings h264_settings{.codec = media::codec::h264, .bitrate = 1'500'000,
                                              .keyframe_interval = 100, .max_width = 1920, .max_height = 1080};

}  // namespace

bool publisher_tracks::vp8() const {
  return video && video->encoding.size() == 3 && (video->encoding[0] | 0x20) == 'v' &&
         (video->encoding[1] | 0x20) == 'p' && video->encoding[2] == '8';
}

publisher::publisher(junction::shard& home, webrtc::webrtc_port& port, session_table& table,
                     const session_metrics& metrics, std::string id, std::string key, std::string peer,
                     std::unique_ptr<media::publication> publication, publisher_tracks tracks, worker_pool& workers)
    : session(home, port, table, metrics, std::move(id), std::move(key), std::move(peer)),
      publication_(std::move(publication)),
      tracks_(std::move(tracks)),
      workers_(workers),
      worker_(workers.assign()),
      tick_timer_(home.context()) {
  publication_->on_evicted([this] { end("taken over by another publisher"); });
  // A player that joins (or lost its picture) gets its keyframe from the browser's encoder, or
  // from the transcoder's.
  publication_->on_keyframe_request([this] {
    if (auto t = vp8_to_h264_) workers_.post(worker_, [t] { t->request_keyframe(); });
    else if (video_ssrc_) ask_for_keyframe(video_ssrc_);
  });
  publication_->on_demand([this](bool now) { on_demand(now); });
  if (publication_->demanded()) on_demand(true);
  count(metrics_.publishers);
  count(metrics_.publishes);
}

publisher::~publisher() { workers_.release(worker_); }

void publisher::on_connected() { tick(); }

void publisher::on_demand(bool demanded) {
  ++generation_;
  opus_to_aac_.reset();
  vp8_to_h264_.reset();
  if (transcoding_ != demanded) {
    transcoding_ = demanded;
    if (demanded) count(metrics_.transcoding);
    else home_.metrics().sub(metrics_.transcoding);
  }
  if (!demanded) return;
  if (tracks_.audio) {
    opus_to_aac_ = std::make_shared<transcode::audio_direction>(opus_format, aac_format);
    audio_offset_.reset();  // the new encoder's timeline starts at its first packet
    aac_config_sent_ = false;
  }
  if (tracks_.vp8()) {
    std::string why;
    vp8_to_h264_ = transcode::video_transcoder::create(media::codec::vp8, h264_settings, &why);
    if (!vp8_to_h264_) log::warn("whip {}: VP8 cannot be transcoded: {}", key_, why);
    vp8_waits_for_keyframe_ = true;
    if (video_ssrc_) ask_for_keyframe(video_ssrc_);
  }
}

void publisher::tick() {
  if (ended()) return;
  drain_video();
  if (tracks_.video) send_nacks(losses_.due(clock::now()));
  ++ticks_;
  if (tracks_.transport_cc && ticks_ % 5 == 0) send_feedback();
  if (!tracks_.transport_cc && tracks_.remb && ticks_ % 50 == 0) send_remb();
  tick_timer_.expires_after(std::chrono::milliseconds(20));
  tick_timer_.async_wait([self = std::weak_ptr<session>(shared_from_this())](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto s = self.lock()) static_cast<publisher&>(*s).tick();
  });
}

void publisher::send_feedback() {
  if (auto f = arrivals_.take(ssrc_, media_ssrc_)) {
    std::vector<std::uint8_t> out;
    media::rtp::write_transport_feedback(*f, out);
    send(webrtc::packet_kind::rtcp, std::move(out));
  }
}

// What arrived in the last second and what went missing, to the estimate; the estimate to the
// browser for its video SSRC.
void publisher::send_remb() {
  const auto now = clock::now();
  const auto missing = losses_.stats().missing;
  remb_.update(bytes_since_remb_, packets_since_remb_, missing - missing_at_remb_,
               std::chrono::duration_cast<std::chrono::milliseconds>(now - last_remb_));
  bytes_since_remb_ = packets_since_remb_ = 0;
  missing_at_remb_ = missing;
  last_remb_ = now;
  if (!video_ssrc_) return;
  std::vector<std::uint8_t> out;
  media::rtp::write_remb({ssrc_, remb_.estimate(), {video_ssrc_}}, out);
  send(webrtc::packet_kind::rtcp, std::move(out));
}

void publisher::send_nacks(const std::vector<std::uint16_t>& lost) {
  if (lost.empty() || !video_ssrc_) return;
  std::vector<std::uint8_t> out;
  media::rtp::write_nack(ssrc_, video_ssrc_, lost, out);
  count(metrics_.nacked, lost.size());
  send(webrtc::packet_kind::rtcp, std::move(out));
}

void publisher::on_end() {
  tick_timer_.cancel();
  if (publication_) home_.metrics().sub(metrics_.publishers);
  on_demand(false);
  publication_.reset();  // players everywhere hear the stream stop
}

std::uint32_t publisher::offset_now() {
  const auto now = clock::now();
  if (!first_packet_) first_packet_ = now;
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - *first_packet_).count());
}

void publisher::on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> datagram) {
  if (kind != webrtc::packet_kind::rtp || !publication_) return;  // RTCP from a sender: its reports
  auto parsed = media::rtp::parse_packet(datagram);
  if (!parsed.ok()) return;
  const auto& p = *parsed.packet;
  if (tracks_.transport_cc)
    if (auto sequence = media::rtp::transport_sequence(p.header, *tracks_.transport_cc)) {
      const auto now = std::chrono::duration_cast<std::chrono::microseconds>(clock::now().time_since_epoch());
      arrivals_.on_packet(*sequence, now.count());
      if (media_ssrc_ == 0) media_ssrc_ = p.header.ssrc;
    }
  const auto pt = p.header.payload_type;
  if (tracks_.video && pt == tracks_.video->payload_type) {
    bytes_since_remb_ += datagram.size();
    ++packets_since_remb_;
    on_video_packet(datagram, p.header.sequence, p.header.ssrc, false);
  } else if (tracks_.video_rtx && pt == *tracks_.video_rtx) {
    if (auto original = unwrap_rtx(p, tracks_.video->payload_type, video_ssrc_))
      on_video_packet(*original, static_cast<std::uint16_t>(p.payload[0] << 8 | p.payload[1]), video_ssrc_, true);
  } else if (tracks_.audio && pt == tracks_.audio->payload_type) {
    on_audio(p);
  }
}

void publisher::push(media::frame f) {
  count(metrics_.frames_in);
  publication_->push(std::move(f));
}

void publisher::on_video_packet(std::span<const std::uint8_t> datagram, std::uint16_t sequence, std::uint32_t ssrc,
                                bool retransmission) {
  const auto now = clock::now();
  if (!video_offset_) video_offset_ = offset_now();
  // NACKs and PLIs name the media stream's SSRC (an RTX stream has its own).
  if (!retransmission) video_ssrc_ = ssrc;
  losses_.on_packet(sequence, now);
  send_nacks(losses_.due(now));
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  video_order_.push({datagram.begin(), datagram.end()}, sequence, us);
  drain_video();
}

void publisher::drain_video() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now().time_since_epoch()).count();
  std::vector<media::rtp::jitter_buffer::entry> ready;
  video_order_.pop_ready(us, ready);
  for (const auto& e : ready) {
    if (!publication_) return;
    if (auto parsed = media::rtp::parse_packet(e.datagram); parsed.ok()) on_video(*parsed.packet);
  }
}

void publisher::on_video(const media::rtp::packet& p) {
  std::vector<media::frame> frames;
  if (tracks_.vp8()) {
    vp8_depacketizer_.push(p, frames);
    for (auto& f : frames) {
      f.timestamp += *video_offset_;
      transcode_video(std::move(f));
    }
    // Without a transcoder nobody needs the picture: no keyframe is asked for.
    if (vp8_depacketizer_.wants_keyframe() && vp8_to_h264_) ask_for_keyframe(p.header.ssrc);
    return;
  }
  depacketizer_.push(p, frames);
  for (auto& f : frames) {
    f.timestamp += *video_offset_;
    push(std::move(f));
    if (!publication_) return;
  }
  if (depacketizer_.wants_keyframe()) ask_for_keyframe(p.header.ssrc);
}

void publisher::transcode_video(media::frame f) {
  auto t = vp8_to_h264_;
  if (!t) return;
  if (vp8_waits_for_keyframe_ && !f.keyframe) return;  // the decoder starts at one (asked for)
  vp8_waits_for_keyframe_ = false;
  auto self = std::weak_ptr<session>(shared_from_this());
  workers_.post(worker_, [t, f = std::move(f), self, home = &home_, generation = generation_] {
    std::vector<media::frame> out;
    t->push(f, out);
    if (out.empty()) return;
    boost::asio::post(home->context(), [self, out = std::move(out), generation] {
      auto s = self.lock();
      if (!s || s->ended()) return;
      auto& me = static_cast<publisher&>(*s);
      if (me.generation_ != generation) return;
      for (auto& frame : out) {
        if (!me.publication_) return;
        me.push(std::move(frame));
      }
    });
  });
}

void publisher::ask_for_keyframe(std::uint32_t media_ssrc) {
  const auto now = clock::now();
  if (now - last_pli_ < std::chrono::milliseconds(500)) return;
  std::vector<std::uint8_t> pli;
  media::rtp::write_pli(ssrc_, media_ssrc, pli);
  if (send(webrtc::packet_kind::rtcp, std::move(pli))) last_pli_ = now;
}

void publisher::on_audio(const media::rtp::packet& p) {
  if (p.payload.empty() || !opus_to_aac_) return;
  if (!audio_offset_) audio_offset_ = offset_now();
  std::vector<std::uint8_t> packet(p.payload.begin(), p.payload.end());
  auto self = std::weak_ptr<session>(shared_from_this());
  workers_.post(worker_, [dir = opus_to_aac_, packet = std::move(packet), self, home = &home_, generation = generation_] {
    auto out = dir->push(packet);
    if (out.empty()) return;
    auto config = dir->output_extradata();
    boost::asio::post(home->context(), [self, out = std::move(out), config = std::move(config), generation] {
      auto s = self.lock();
      if (!s || s->ended()) return;
      auto& me = static_cast<publisher&>(*s);
      if (me.generation_ == generation) me.push_aac(out, config);
    });
  });
}

void publisher::push_aac(const std::vector<transcode::audio_packet>& packets, const std::vector<std::uint8_t>& config) {
  if (!publication_) return;
  auto flv = [](const std::vector<std::uint8_t>& header, std::span<const std::uint8_t> data) {
    return shared_buffer::build(header.size() + data.size(), [&](std::span<std::byte> out) {
      std::memcpy(out.data(), header.data(), header.size());
      if (!data.empty()) std::memcpy(out.data() + header.size(), data.data(), data.size());
    });
  };
  if (!aac_config_sent_) {
    if (config.empty()) return;
    aac_config_sent_ = true;
    push(media::make_frame(media::track::audio, *audio_offset_,
                           flv(*transcode::flv_audio_header(aac_format, true), config)));
  }
  const auto header = *transcode::flv_audio_header(aac_format);
  for (const auto& p : packets) {
    const auto ms = *audio_offset_ + static_cast<std::uint32_t>(p.pts * 1000 / aac_format.sample_rate);
    push(media::make_frame(media::track::audio, ms, flv(header, p.data)));
    if (!publication_) return;
  }
}

}  // namespace junction::whip
