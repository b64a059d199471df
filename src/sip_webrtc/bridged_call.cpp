#include "sip_webrtc/bridged_call.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/rtp/audio_payload.hpp"
#include "media/sdp/negotiation.hpp"
#include "transcode/audio_format.hpp"

namespace junction::sip_webrtc {
namespace {

using direction = media::sdp::direction;

std::uint32_t random_u32() {
  std::uint32_t v = 0;
  while (v == 0) v = static_cast<std::uint32_t>(std::random_device{}());
  return v;
}

bool sends(direction d) { return d == direction::sendrecv || d == direction::sendonly; }
bool receives(direction d) { return d == direction::sendrecv || d == direction::recvonly; }

template <class Rep, class Period>
std::uint32_t units(std::chrono::duration<Rep, Period> d, std::uint32_t clock_rate) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<std::uint32_t>(std::max<std::int64_t>(ms, 0) * clock_rate / 1000);
}

}  // namespace

bridge_metrics bridge_metrics::declare(metric_registry& r) {
  using k = metric_kind;
  bridge_metrics m;
  m.bridges = r.add("junction_sip_webrtc_bridges", "Calls bridged between a browser (WebRTC) and a phone (plain RTP).",
                    k::gauge);
  m.calls = r.add("junction_sip_webrtc_bridged_total", "Calls bridged between a browser and a phone.", k::counter);
  m.transcoded = r.add("junction_sip_webrtc_transcoded_total",
                       "Bridged calls whose audio is transcoded (the two sides had no codec in common).", k::counter);
  m.packets = r.add("junction_sip_webrtc_packets_total", "RTP packets carried across bridged calls (either way).",
                    k::counter);
  return m;
}

std::shared_ptr<bridged_call> bridged_call::open(junction::shard& home, worker_pool& pool, const bridge_metrics& metrics,
                                                 const std::string& address, boost::system::error_code& ec) {
  auto where = boost::asio::ip::make_address(address, ec);
  if (ec) return nullptr;
  auto phone = media::rtp_endpoint::open(home, where, {}, ec);
  if (ec) return nullptr;
  return std::make_shared<bridged_call>(home, pool, metrics, std::move(phone));
}

bridged_call::bridged_call(junction::shard& home, worker_pool& pool, const bridge_metrics& metrics,
                           std::shared_ptr<media::rtp_endpoint> phone)
    : home_(home), pool_(pool), metrics_(metrics), worker_(pool.assign()), phone_(std::move(phone)) {
  for (auto* s : {&to_browser_, &to_phone_}) {
    s->ssrc = random_u32();
    s->sequence = static_cast<std::uint16_t>(random_u32());
    s->timestamp_base = random_u32();
    s->last_timestamp = s->timestamp_base;
  }
}

bridged_call::~bridged_call() {
  stop("the call ended");
  pool_.release(worker_);
}

bool bridged_call::join(webrtc::webrtc_port& port, const webrtc::ice_credentials& local, std::string remote_ufrag,
                        webrtc::fingerprint_value remote_fingerprint, webrtc::dtls_transport::role role) {
  if (ended_ || peer_) return false;
  peer_ = port.add(local, std::move(remote_ufrag), std::move(remote_fingerprint), role, *this);
  if (!peer_) return false;
  port_ = &port;
  return true;
}

bool bridged_call::complete(std::string remote_ufrag, webrtc::fingerprint_value remote_fingerprint,
                            webrtc::dtls_transport::role role) {
  return peer_ && port_->set_remote(*peer_, std::move(remote_ufrag), std::move(remote_fingerprint), role) && !ended_;
}

void bridged_call::begin(const audio_plan& plan, const phone_media& phone) {
  if (started_ || ended_) return;
  plan_ = plan;
  auto set = [](sender& s, const media::sdp::codec& out, const std::optional<dtmf_codec>& out_dtmf,
                const std::vector<media::sdp::codec>& accepted, const std::optional<dtmf_codec>& in_dtmf) {
    s.codec = out;
    s.audio_type = out.payload_type;
    s.audio_clock = out.clock_rate;
    s.accepted = accepted;
    s.has_dtmf = out_dtmf && in_dtmf;
    if (out_dtmf) s.dtmf_type = out_dtmf->payload_type, s.dtmf_clock = out_dtmf->clock_rate;
    s.source_has_dtmf = s.has_dtmf;
    if (in_dtmf) s.source_dtmf = in_dtmf->payload_type, s.source_dtmf_clock = in_dtmf->clock_rate;
  };
  set(to_phone_, plan.phone, plan.phone_dtmf, plan.browser_sends, plan.browser_dtmf);
  set(to_browser_, plan.browser, plan.browser_dtmf, plan.phone_sends, plan.phone_dtmf);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(phone.address, ec);
  if (!ec) phone_->set_remote({address, phone.port});
  sending_to_browser_ = sends(plan.towards_browser);
  sending_to_phone_ = receives(plan.towards_browser);
  phone_->start(*this);
  started_ = true;
  log::info("sip-webrtc: bridging {} (browser) and {} (phone){}", plan.browser.encoding, plan.phone.encoding,
            plan.transcoded() ? ", transcoded" : "");
}

void bridged_call::update(const phone_media& phone, direction towards_browser) {
  if (!started_ || ended_) return;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(phone.address, ec);
  if (!ec && phone.port != 0 && address != phone_->remote().address()) phone_->set_remote({address, phone.port});
  plan_.towards_browser = towards_browser;
  sending_to_browser_ = sends(towards_browser);
  sending_to_phone_ = receives(towards_browser);
}

void bridged_call::stop(const std::string& why) {
  if (ended_) return;
  ended_ = true;
  if (peer_ && port_) port_->remove(*peer_);
  peer_.reset();
  phone_->stop();
  to_phone_.transcoder.reset();
  to_browser_.transcoder.reset();
  if (started_) log::info("sip-webrtc: bridge ended: {}", why);
}

bridged_call::clock::time_point bridged_call::last_packet() const {
  return std::max({created_, last_from_browser_, phone_->last_received()});
}

void bridged_call::on_state(webrtc::transport::state now, const std::string& why) {
  using state = webrtc::transport::state;
  if (now == state::connected) {
    log::info("sip-webrtc: the browser's side is connected");
    return;
  }
  if (now == state::failed || now == state::closed) {
    peer_.reset();  // gone from the port already
    stop(now == state::failed ? "the browser's transport failed: " + why
                              : (why.empty() ? std::string("closed by the browser") : why));
  }
}

void bridged_call::on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> packet) {
  if (ended_ || kind != webrtc::packet_kind::rtp) return;
  last_from_browser_ = clock::now();
  auto parsed = media::rtp::parse_packet(packet);
  if (parsed.ok()) carry(*parsed.packet, true);
}

void bridged_call::on_datagram(media::datagram_kind kind, std::span<const std::uint8_t> datagram) {
  if (ended_ || kind != media::datagram_kind::rtp) return;
  auto parsed = media::rtp::parse_packet(datagram);
  if (parsed.ok()) carry(*parsed.packet, false);
}

void bridged_call::carry(const media::rtp::packet& p, bool to_phone) {
  sender& s = to_phone ? to_phone_ : to_browser_;
  if (!(to_phone ? sending_to_phone_ : sending_to_browser_)) return;
  if (s.source_has_dtmf && p.header.payload_type == s.source_dtmf) return send_event(to_phone, p);
  if (p.payload.empty() || media::rtp::is_comfort_noise(p)) return;
  if (s.source_type != p.header.payload_type && !switch_source(s, p.header.payload_type)) return;
  if (!s.passing) {
    if (s.transcoder) transcode(to_phone, p.payload);
    return;
  }
  // The same codec on both sides: the packet's numbers moved by offsets set by its first packet.
  if (s.source_ssrc != p.header.ssrc) {
    const std::uint32_t next = s.last_sent == clock::time_point{}
                                   ? s.timestamp_base
                                   : s.last_timestamp + units(clock::now() - s.last_sent, s.audio_clock);
    s.source_ssrc = p.header.ssrc;
    s.sequence_offset = static_cast<std::uint16_t>(s.sequence - p.header.sequence);
    s.timestamp_offset = next - p.header.timestamp;
    s.marker = true;
  }
  media::rtp::header h;
  h.payload_type = s.audio_type;
  h.marker = p.header.marker || s.marker;
  h.sequence = static_cast<std::uint16_t>(p.header.sequence + s.sequence_offset);
  h.timestamp = p.header.timestamp + s.timestamp_offset;
  h.ssrc = s.ssrc;
  if (media::rtp::sequence_after(static_cast<std::uint16_t>(h.sequence + 1), s.sequence))
    s.sequence = static_cast<std::uint16_t>(h.sequence + 1);
  s.marker = false;
  s.last_timestamp = h.timestamp;
  s.last_sent = clock::now();
  transmit(to_phone, h, p.payload);
}

bool bridged_call::switch_source(sender& s, std::uint8_t payload_type) {
  auto in = std::find_if(s.accepted.begin(), s.accepted.end(),
                         [&](const media::sdp::codec& c) { return c.payload_type == payload_type; });
  if (in == s.accepted.end()) return false;  // nothing it was offered: not audio of this call
  s.source_type = payload_type;
  s.transcoder.reset();
  s.passing = media::sdp::same_codec(*in, s.codec);
  if (s.passing) {
    s.source_ssrc.reset();  // new offsets from its next packet
    return true;
  }
  auto from = transcode::audio_format_of(*in);
  auto to = transcode::audio_format_of(s.codec);
  if (!from || !to) return true;  // dropped: nothing can transcode it
  s.transcoder = std::make_shared<transcode::audio_direction>(*from, *to, 20);
  // Its timestamps go on from where this side's audio stands.
  if (s.last_sent != clock::time_point{})
    s.timestamp_base = s.last_timestamp + units(clock::now() - s.last_sent, s.audio_clock);
  s.marker = true;
  if (!counted_transcoding_) {
    counted_transcoding_ = true;
    home_.metrics().add(metrics_.transcoded);
  }
  log::debug("sip-webrtc: transcoding {} to {}", in->encoding, s.codec.encoding);
  return true;
}

void bridged_call::send_audio(bool to_phone, std::span<const std::uint8_t> payload, std::uint32_t timestamp,
                              bool marker) {
  sender& s = to_phone ? to_phone_ : to_browser_;
  media::rtp::header h;
  h.payload_type = s.audio_type;
  h.marker = marker;
  h.sequence = s.sequence++;
  h.timestamp = timestamp;
  h.ssrc = s.ssrc;
  s.last_timestamp = timestamp;
  s.last_sent = clock::now();
  transmit(to_phone, h, payload);
}

// RFC 4733 §2.5: an event's packets share its start timestamp; the duration field counts in the
// same clock. Moved to this side's clock, starting where this side's audio stands.
void bridged_call::send_event(bool to_phone, const media::rtp::packet& p) {
  sender& s = to_phone ? to_phone_ : to_browser_;
  if (!s.has_dtmf || p.payload.size() < 4) return;
  if (s.event_source != p.header.timestamp) {
    s.event_source = p.header.timestamp;
    if (s.passing && s.source_ssrc == p.header.ssrc && s.dtmf_clock == s.source_dtmf_clock)
      s.event_here = p.header.timestamp + s.timestamp_offset;
    else
      s.event_here = s.last_sent == clock::time_point{}
                         ? s.timestamp_base
                         : s.last_timestamp + units(clock::now() - s.last_sent, s.dtmf_clock);
    // The next event (or audio after a source change) goes on from here: two keys pressed before
    // any transcoded audio came out must not share a timestamp.
    s.last_timestamp = s.event_here;
    s.last_sent = clock::now();
  }
  std::uint8_t event[4] = {p.payload[0], p.payload[1], p.payload[2], p.payload[3]};
  const std::uint32_t duration = (std::uint32_t{p.payload[2]} << 8 | p.payload[3]) * std::uint64_t{s.dtmf_clock} /
                                 std::max<std::uint32_t>(s.source_dtmf_clock, 1);
  const auto clamped = static_cast<std::uint16_t>(std::min<std::uint32_t>(duration, 0xFFFF));
  event[2] = static_cast<std::uint8_t>(clamped >> 8);
  event[3] = static_cast<std::uint8_t>(clamped);
  media::rtp::header h;
  h.payload_type = s.dtmf_type;
  h.marker = p.header.marker;
  h.sequence = s.sequence++;
  h.timestamp = s.event_here;
  h.ssrc = s.ssrc;
  transmit(to_phone, h, event);
}

void bridged_call::transmit(bool to_phone, const media::rtp::header& h, std::span<const std::uint8_t> payload) {
  scratch_.clear();
  media::rtp::write_packet(h, payload, scratch_);
  bool sent = false;
  if (to_phone)
    sent = phone_->send(scratch_);
  else
    sent = peer_ && port_->send(*peer_, webrtc::packet_kind::rtp, scratch_);
  if (sent) home_.metrics().add(metrics_.packets);
}

// One packet through the direction's transcoder on the call's worker; what comes out is sent
// from the shard, if the call still runs by then.
void bridged_call::transcode(bool to_phone, std::span<const std::uint8_t> payload) {
  sender& s = to_phone ? to_phone_ : to_browser_;
  std::vector<std::uint8_t> packet(payload.begin(), payload.end());
  auto self = weak_from_this();
  pool_.post(worker_, [dir = s.transcoder, packet = std::move(packet), self, home = &home_, to_phone] {
    auto out = dir->push(packet);
    if (out.empty()) return;
    const auto format = dir->output();
    boost::asio::post(home->context(), [self, out = std::move(out), format, to_phone] {
      auto call = self.lock();
      if (!call || call->ended_) return;
      sender& s = to_phone ? call->to_phone_ : call->to_browser_;
      for (const auto& p : out) {
        const auto ts = s.timestamp_base + media::rtp::rtp_units(format.codec, format.sample_rate, static_cast<int>(p.pts));
        call->send_audio(to_phone, p.data, ts, std::exchange(s.marker, false));
      }
    });
  });
}

}  // namespace junction::sip_webrtc
