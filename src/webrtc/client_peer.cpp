#include "webrtc/client_peer.hpp"

#include <fmt/format.h>

#include "media/sdp/session.hpp"
#include "webrtc/stun.hpp"

namespace junction::webrtc {

std::variant<server_answer, std::string> read_server_answer(std::string_view sdp) {
  auto parsed = media::sdp::parse(sdp);
  if (!parsed.ok()) return "the answer does not parse: " + parsed.describe();
  server_answer a;
  auto take = [&](const std::vector<media::sdp::attribute>& attributes) {
    for (const auto& at : attributes) {
      if (at.name == "ice-ufrag" && a.ice.ufrag.empty()) a.ice.ufrag = at.value;
      if (at.name == "ice-pwd" && a.ice.pwd.empty()) a.ice.pwd = at.value;
      if (at.name == "fingerprint" && a.fingerprint.digest.empty())
        if (auto f = parse_fingerprint(at.value)) a.fingerprint = *f;
      if (at.name == "candidate" && a.port == 0) {
        // foundation component transport priority address port typ host
        std::vector<std::string_view> f;
        std::string_view v = at.value;
        while (!v.empty()) {
          auto space = v.find(' ');
          f.push_back(v.substr(0, space));
          v = space == std::string_view::npos ? std::string_view{} : v.substr(space + 1);
        }
        if (f.size() >= 8 && (f[2] == "udp" || f[2] == "UDP")) {
          a.address = std::string(f[4]);
          a.port = static_cast<std::uint16_t>(std::stoul(std::string(f[5])));
        }
      }
    }
  };
  take(parsed.session->other);
  for (const auto& m : parsed.session->media) take(m.other);
  if (a.ice.ufrag.empty() || a.ice.pwd.empty()) return std::string("the answer has no ICE credentials");
  if (a.fingerprint.digest.empty()) return std::string("the answer has no fingerprint");
  if (a.port == 0) return std::string("the answer has no UDP candidate");
  return a;
}

client_peer::client_peer(std::shared_ptr<const dtls_certificate> certificate, client_offer_options o)
    : certificate_(std::move(certificate)), local_(new_ice_credentials()) {
  const char* dir = o.receive ? "recvonly" : "sendonly";
  std::string sections, mids;
  int mid = 0;
  auto section_head = [&](const char* kind, std::string formats) {
    mids += fmt::format(" {}", mid);
    sections += fmt::format(
        "m={} 9 UDP/TLS/RTP/SAVPF {}\r\nc=IN IP4 0.0.0.0\r\na=rtcp-mux\r\na=mid:{}\r\na=ice-ufrag:{}\r\n"
        "a=ice-pwd:{}\r\na=fingerprint:{}\r\na=setup:actpass\r\na={}\r\n",
        kind, formats, mid, local_.ufrag, local_.pwd, certificate_->fingerprint(), dir);
    ++mid;
  };
  if (o.video) {
    section_head("video", fmt::format("{} {}", o.h264_payload_type, o.rtx_payload_type));
    sections += fmt::format(
        "a=rtpmap:{0} H264/90000\r\na=fmtp:{0} level-asymmetry-allowed=1;packetization-mode=1;"
        "profile-level-id=42e01f\r\na=rtcp-fb:{0} nack\r\na=rtcp-fb:{0} nack pli\r\n"
        "a=rtpmap:{1} rtx/90000\r\na=fmtp:{1} apt={0}\r\n",
        o.h264_payload_type, o.rtx_payload_type);
  }
  if (o.audio) {
    section_head("audio", std::to_string(o.opus_payload_type));
    sections += fmt::format("a=rtpmap:{0} opus/48000/2\r\na=fmtp:{0} minptime=10;useinbandfec=1\r\n",
                            o.opus_payload_type);
  }
  offer_ = fmt::format("v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE{}\r\n{}",
                       std::chrono::steady_clock::now().time_since_epoch().count() & 0x7fffffff, mids, sections);
}

bool client_peer::answer(std::string_view sdp, std::string& why) {
  auto read = read_server_answer(sdp);
  if (auto* w = std::get_if<std::string>(&read)) {
    why = *w;
    return false;
  }
  server_ = std::get<server_answer>(read);
  dtls_ = std::make_unique<dtls_transport>(certificate_, dtls_transport::role::server, server_.fingerprint);
  return true;
}

std::vector<std::uint8_t> client_peer::check() {
  stun::message_writer w(stun::binding, stun::message_class::request, stun::new_transaction_id());
  w.add(stun::attr::username, server_.ice.ufrag + ":" + local_.ufrag);
  w.add_u32(stun::attr::priority, 2130706431);
  w.add_u64(stun::attr::ice_controlling, 7);
  w.add_flag(stun::attr::use_candidate);
  return w.finish(server_.ice.pwd, true);
}

void client_peer::on_datagram(std::span<const std::uint8_t> datagram, clock::time_point now) {
  if (!dtls_ || state_ == state::failed) return;
  switch (classify(datagram)) {
    case packet_kind::stun: {
      std::error_code ec;
      auto m = stun::message_view::parse(datagram, ec);
      if (!ec && m.kind() == stun::message_class::success && m.integrity_ok(server_.ice.pwd) &&
          state_ == state::checking)
        state_ = state::connecting;  // the server's DTLS client starts now
      return;
    }
    case packet_kind::dtls:
      dtls_->on_datagram(datagram, now);
      after_dtls();
      return;
    case packet_kind::rtp:
    case packet_kind::rtcp: {
      if (!in_) return;
      std::vector<std::uint8_t> clear(datagram.begin(), datagram.end());
      const auto kind = classify(datagram);
      const auto status = kind == packet_kind::rtcp ? in_->unprotect_rtcp(clear) : in_->unprotect_rtp(clear);
      if (status == media::srtp::status::ok) received_.push_back({kind, std::move(clear)});
      return;
    }
    default: return;
  }
}

void client_peer::after_dtls() {
  for (auto& d : dtls_->take_outgoing()) outgoing_.push_back(std::move(d));
  if (dtls_->current() == dtls_transport::state::failed) {
    state_ = state::failed;
    failure_ = dtls_->failure();
  } else if (dtls_->current() == dtls_transport::state::connected && !in_) {
    const auto& k = *dtls_->keying();
    out_ = media::srtp::session::create(k.suite, k.local_master, media::srtp::session::direction::outbound);
    in_ = media::srtp::session::create(k.suite, k.remote_master, media::srtp::session::direction::inbound);
    state_ = in_ && out_ ? state::connected : state::failed;
    if (state_ == state::failed) failure_ = "SRTP refused the exported keys";
  } else if (dtls_->current() == dtls_transport::state::closed) {
    state_ = state::failed;
    failure_ = "the server closed the association";
  }
}

void client_peer::on_timer(clock::time_point now) {
  if (!dtls_) return;
  if (auto due = dtls_->next_timeout(); due && *due <= now) {
    dtls_->on_timer(now);
    after_dtls();
  }
}

std::optional<client_peer::clock::time_point> client_peer::next_timeout() const noexcept {
  return dtls_ ? dtls_->next_timeout() : std::nullopt;
}

bool client_peer::send(packet_kind kind, std::vector<std::uint8_t> packet) {
  if (!out_) return false;
  const auto status = kind == packet_kind::rtcp ? out_->protect_rtcp(packet) : out_->protect_rtp(packet);
  if (status != media::srtp::status::ok) return false;
  outgoing_.push_back(std::move(packet));
  return true;
}

}  // namespace junction::webrtc
