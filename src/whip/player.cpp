#include "whip/player.hpp"

#include <boost/asio/post.hpp>

#include "core/shard.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/rtcp.hpp"
#include "media/sdp/negotiation.hpp"

namespace junction::whip {
namespace {

media::rtp::retransmission_cache::options cache_for(const player_tracks& t) {
  media::rtp::retransmission_cache::options o;
  o.rtx_payload_type = t.video_rtx;
  o.rtx_ssrc = t.video_rtx_ssrc;
  o.capacity = 256;  // a second of a 2 Mbit/s stream: NACKs come within a round trip or two
  return o;
}

// Now as RTCP's 32.32 NTP time (seconds since 1900).
std::uint64_t ntp_now() {
  const auto since_1970 = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(since_1970).count();
  const std::uint64_t seconds = static_cast<std::uint64_t>(us / 1'000'000) + 2'208'988'800ULL;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return seconds << 32 | fraction;
}

}  // namespace

player::player(junction::shard& home, webrtc::webrtc_port& port, session_table& table, const session_metrics& metrics,
               std::string id, std::string key, std::string peer, feed_source feeds, player_tracks tracks,
               std::vector<layer_option> layers)
    : session(home, port, table, metrics, std::move(id), std::move(key), std::move(peer)),
      feeds_(std::move(feeds)),
      feed_(feeds_(layers.empty() ? key_ : layers.front().key)),
      layers_(std::move(layers)),
      tracks_(std::move(tracks)),
      video_base_(random_ssrc()),
      audio_base_(random_ssrc()),
      cache_(cache_for(tracks_)),
      video_sequence_(static_cast<std::uint16_t>(random_ssrc())),
      audio_sequence_(static_cast<std::uint16_t>(random_ssrc())) {
  if (layers_.size() > 1) {
    std::vector<std::uint64_t> rates;
    for (const auto& l : layers_) rates.push_back(l.bits_per_second);
    chooser_.emplace(std::move(rates));
  }
  count(metrics_.players);
  count(metrics_.plays);
}

player::~player() = default;

void player::on_connected() {
  // Joining now, not at the offer: the pictures since the last keyframe then reach a browser
  // that can decrypt them, and the picture starts at once.
  if (joined_) return;
  joined_ = true;
  feed_->add(*this, tracks_.audio.has_value());
}

void player::on_end() {
  if (joined_) feed_->remove(*this);
  joined_ = false;
  home_.metrics().sub(metrics_.players);
}

void player::send_rtp(std::vector<std::uint8_t> packet) {
  const auto size = packet.size();
  if (!send(webrtc::packet_kind::rtp, std::move(packet))) return;
  count(metrics_.packets_out);
  count(metrics_.bytes_out, size);
}

void player::on_video(const video_unit& v, std::uint32_t timestamp_ms) {
  if (ended() || !tracks_.video) return;
  const auto& frame = v.frame->frame();
  if (need_keyframe_ && !frame.keyframe) return;
  need_keyframe_ = false;
  const auto now = clock::now();
  media::rtp::header h;
  h.payload_type = tracks_.video->payload_type;
  h.ssrc = tracks_.video_ssrc;
  h.timestamp = media::rtp::timestamp_mapper::to_rtp(timestamp_ms, 90000, video_base_);
  if (tracks_.abs_send_time) {
    // abs-send-time: the send time as 6.18 fixed-point seconds (NTP's low 6 bits of seconds).
    const auto t = static_cast<std::uint32_t>(ntp_now() >> 14);
    abs_send_time_ = {static_cast<std::uint8_t>(*tracks_.abs_send_time << 4 | 2), static_cast<std::uint8_t>(t >> 16),
                      static_cast<std::uint8_t>(t >> 8), static_cast<std::uint8_t>(t)};
    h.has_extension = true;
    h.extension_profile = 0xBEDE;
    h.extension = abs_send_time_;
  }
  for (const auto& p : *v.payloads) {
    h.sequence = video_sequence_++;
    h.marker = p.marker;
    const auto bytes = p.bytes.bytes();
    std::vector<std::uint8_t> packet;
    packet.reserve(12 + bytes.size() + 16);  // room for SRTP's tag
    media::rtp::write_packet(h, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, packet);
    cache_.store(h, p.bytes, now);
    video_sent_.octets += static_cast<std::uint32_t>(bytes.size());
    video_octets_ += bytes.size();
    ++video_sent_.packets;
    send_rtp(std::move(packet));
  }
  video_sent_.rtp_timestamp = h.timestamp;
  video_sent_.at = now;
  video_sent_.any = true;
  maybe_report(now);
  if (chooser_) maybe_choose_layer(now);
}

void player::maybe_choose_layer(clock::time_point now) {
  if (now - last_choice_ < std::chrono::seconds(1)) return;
  const bool first = last_choice_ == clock::time_point{};
  last_choice_ = now;
  const std::uint64_t sent = (video_octets_ - octets_at_choice_) * 8;
  octets_at_choice_ = video_octets_;
  if (first) return;  // the first second: a start, not a rate
  // An estimate older than two seconds is no longer the browser's word.
  std::optional<std::uint64_t> estimate;
  if (estimate_ && now - estimate_at_ < std::chrono::seconds(2)) estimate = estimate_;
  const auto chosen = chooser_->second(estimate, sent);
  if (chosen == layer_) return;
  boost::asio::post(home_.context(), [self = std::weak_ptr<session>(shared_from_this()), chosen] {
    if (auto s = self.lock(); s && !s->ended()) static_cast<player&>(*s).move_to_layer(chosen);
  });
}

void player::move_to_layer(std::size_t layer) {
  if (!joined_ || layer >= layers_.size() || layer == layer_) return;
  feed_->remove(*this);
  layer_ = layer;
  feed_ = feeds_(layers_[layer].key);
  need_keyframe_ = true;  // the new layer's pictures start at its keyframe (the feed asks for one)
  feed_->add(*this, tracks_.audio.has_value());
  count(metrics_.layer_switches);
}

void player::on_opus(std::span<const std::uint8_t> packet, std::uint32_t clock48) {
  if (ended() || !tracks_.audio) return;
  media::rtp::header h;
  h.payload_type = tracks_.audio->payload_type;
  h.marker = !audio_started_;
  h.sequence = audio_sequence_++;
  h.timestamp = audio_base_ + clock48;
  h.ssrc = tracks_.audio_ssrc;
  std::vector<std::uint8_t> out;
  media::rtp::write_packet(h, packet, out);
  audio_started_ = true;
  audio_sent_.rtp_timestamp = h.timestamp;
  audio_sent_.at = clock::now();
  audio_sent_.packets++;
  audio_sent_.octets += static_cast<std::uint32_t>(packet.size());
  audio_sent_.any = true;
  send_rtp(std::move(out));
  maybe_report(audio_sent_.at);
}

// A sender report per stream once a second: the NTP time now and the RTP timestamp that is now
// on that stream's clock, which is what lets the browser play the two in sync.
void player::maybe_report(clock::time_point now) {
  if (now - last_report_ < std::chrono::seconds(1)) return;
  last_report_ = now;
  const auto ntp = ntp_now();
  auto report = [&](const sent_stream& s, std::uint32_t ssrc, std::uint32_t rate) {
    if (!s.any) return;
    media::rtp::sender_report sr;
    sr.ssrc = ssrc;
    sr.ntp_time = ntp;
    const auto since = std::chrono::duration_cast<std::chrono::microseconds>(now - s.at).count();
    sr.rtp_timestamp = s.rtp_timestamp + static_cast<std::uint32_t>(since * rate / 1'000'000);
    sr.packet_count = s.packets;
    sr.octet_count = s.octets;
    std::vector<std::uint8_t> out;
    media::rtp::write_sender_report(sr, out);
    media::rtp::write_sdes({ssrc, "junction"}, out);
    send(webrtc::packet_kind::rtcp, std::move(out));
  };
  report(video_sent_, tracks_.video_ssrc, 90000);
  report(audio_sent_, tracks_.audio_ssrc, 48000);
}

void player::on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> packet) {
  if (kind != webrtc::packet_kind::rtcp) return;
  auto rtcp = media::rtp::parse_rtcp(packet);
  for (const auto& p : rtcp.packets) {
    const auto* fb = std::get_if<media::rtp::feedback>(&p);
    if (fb && fb->what == media::rtp::feedback::kind::remb && fb->estimate) {
      estimate_ = fb->estimate->bitrate;
      estimate_at_ = clock::now();
    }
    if (!fb || fb->media_ssrc != tracks_.video_ssrc) continue;
    if (fb->what == media::rtp::feedback::kind::nack) {
      for (auto& again : cache_.answer(fb->lost, clock::now())) {
        count(metrics_.resent);
        send_rtp(std::move(again));
      }
    }
    // PLI and FIR: the publisher is asked for a keyframe (a WebRTC publisher makes one; an RTMP
    // publisher's next one comes when it comes).
    if (fb->what == media::rtp::feedback::kind::pli || fb->what == media::rtp::feedback::kind::fir)
      feed_->request_keyframe();
  }
}

}  // namespace junction::whip
