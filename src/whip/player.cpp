#include "whip/player.hpp"

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
               std::string id, std::string key, std::string peer, std::shared_ptr<whep_feed> feed,
               player_tracks tracks)
    : session(home, port, table, metrics, std::move(id), std::move(key), std::move(peer)),
      feed_(std::move(feed)),
      tracks_(std::move(tracks)),
      video_base_(random_ssrc()),
      audio_base_(random_ssrc()),
      cache_(cache_for(tracks_)),
      video_sequence_(static_cast<std::uint16_t>(random_ssrc())),
      audio_sequence_(static_cast<std::uint16_t>(random_ssrc())) {
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
  for (const auto& p : *v.payloads) {
    h.sequence = video_sequence_++;
    h.marker = p.marker;
    const auto bytes = p.bytes.bytes();
    std::vector<std::uint8_t> packet;
    packet.reserve(12 + bytes.size() + 16);  // room for SRTP's tag
    media::rtp::write_packet(h, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, packet);
    cache_.store(h, p.bytes, now);
    video_sent_.octets += static_cast<std::uint32_t>(bytes.size());
    ++video_sent_.packets;
    send_rtp(std::move(packet));
  }
  video_sent_.rtp_timestamp = h.timestamp;
  video_sent_.at = now;
  video_sent_.any = true;
  maybe_report(now);
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
