#include "webrtc/transport.hpp"

#include <algorithm>

namespace junction::webrtc {

transport::transport(std::shared_ptr<const dtls_certificate> certificate, ice_credentials local,
                     std::string remote_ufrag, fingerprint_value remote_fingerprint, dtls_transport::role role,
                     clock::time_point now)
    : ice_(std::move(local), std::move(remote_ufrag), now), certificate_(std::move(certificate)), role_(role) {
  if (remote_fingerprint.digest.empty()) return;  // set_remote() brings it
  dtls_.emplace(certificate_, role, std::move(remote_fingerprint));
  if (dtls_->current() == dtls_transport::state::failed) fail(dtls_->failure());
}

bool transport::set_remote(std::string remote_ufrag, fingerprint_value remote_fingerprint, dtls_transport::role role,
                           clock::time_point now) {
  if (dtls_ || state_ == state::failed || state_ == state::closed) return false;
  ice_.set_remote_ufrag(std::move(remote_ufrag));
  role_ = role;
  dtls_.emplace(certificate_, role, std::move(remote_fingerprint));
  if (dtls_->current() == dtls_transport::state::failed) {
    fail(dtls_->failure());
    return true;
  }
  if (role == dtls_transport::role::client) {
    if (auto path = ice_.selected()) start_client(*path, now);
  } else if (early_dtls_) {
    auto [from, bytes] = std::move(*early_dtls_);
    early_dtls_.reset();
    on_datagram(bytes, from, now);
  }
  early_dtls_.reset();
  return true;
}

void transport::start_client(const endpoint& to, clock::time_point now) {
  dtls_started_ = true;
  dtls_->start(now);
  after_dtls(to);
}

void transport::fail(std::string why) {
  if (state_ == state::failed || state_ == state::closed) return;
  state_ = state::failed;
  failure_ = std::move(why);
}

void transport::flush_dtls(const endpoint& to) {
  if (!dtls_) return;
  for (auto& d : dtls_->take_outgoing()) outgoing_.push_back({to, std::move(d)});
}

void transport::after_dtls(const endpoint& to) {
  dtls_peer_ = to;
  flush_dtls(to);
  switch (dtls_->current()) {
    case dtls_transport::state::connected:
      if (!outbound_) {
        const srtp_keying& k = *dtls_->keying();
        outbound_ = media::srtp::session::create(k.suite, k.local_master, media::srtp::session::direction::outbound);
        inbound_ = media::srtp::session::create(k.suite, k.remote_master, media::srtp::session::direction::inbound);
        if (!outbound_ || !inbound_)
          fail("SRTP refused the keys DTLS exported");
        else
          state_ = state::connected;
      }
      break;
    case dtls_transport::state::failed: fail(dtls_->failure()); break;
    case dtls_transport::state::closed: state_ = state::closed; break;
    case dtls_transport::state::handshaking: break;
  }
}

void transport::on_datagram(std::span<const std::uint8_t> datagram, const endpoint& from, clock::time_point now) {
  if (state_ == state::failed || state_ == state::closed) return;
  const packet_kind kind = classify(datagram);
  switch (kind) {
    case packet_kind::stun: {
      std::error_code ec;
      auto m = stun::message_view::parse(datagram, ec);
      if (ec) return;
      auto r = ice_.on_stun(m, from, now);
      if (!r.reply.empty()) outgoing_.push_back({from, std::move(r.reply)});
      if (r.what != ice_lite_agent::outcome::answered) return;
      if (state_ == state::checking) state_ = state::connecting;
      // As the DTLS client, start once the peer has proven a path (RFC 8842 §5: after ICE).
      if (dtls_ && role_ == dtls_transport::role::client && !dtls_started_)
        start_client(ice_.selected().value_or(from), now);
      return;
    }
    case packet_kind::dtls:
      if (!ice_.proven(from)) {
        ++stats_.unproven_dropped;
        return;
      }
      if (!dtls_) {  // the answer has not come: its first flight waits for it
        early_dtls_.emplace(from, std::vector<std::uint8_t>(datagram.begin(), datagram.end()));
        return;
      }
      dtls_started_ = true;
      dtls_->on_datagram(datagram, now);
      after_dtls(from);
      return;
    case packet_kind::rtp:
    case packet_kind::rtcp: {
      if (!ice_.proven(from)) {
        ++stats_.unproven_dropped;
        return;
      }
      if (!inbound_) {
        ++stats_.early_media;
        return;
      }
      std::vector<std::uint8_t> packet(datagram.begin(), datagram.end());
      const auto s = kind == packet_kind::rtp ? inbound_->unprotect_rtp(packet) : inbound_->unprotect_rtcp(packet);
      if (s != media::srtp::status::ok) {
        ++stats_.srtp_failures;
        return;
      }
      received_.push_back({kind, std::move(packet)});
      // The peer keys its SRTP when its handshake is done: it will not ask for a flight again.
      if (!dtls_->released()) dtls_->release();
      return;
    }
    case packet_kind::other: return;
  }
}

void transport::on_timer(clock::time_point now) {
  if (state_ == state::failed || state_ == state::closed) return;
  if (ice_.consent_expired(now))
    return fail(state_ == state::checking ? "no ICE check came from the peer"
                                          : "the peer's consent expired (no ICE check for 30 s)");
  if (!dtls_) return;
  if (auto due = dtls_->next_timeout(); due && *due <= now) {
    dtls_->on_timer(now);
    if (auto to = ice_.selected() ? ice_.selected() : dtls_peer_) after_dtls(*to);
    if (dtls_->current() == dtls_transport::state::failed) fail(dtls_->failure());
  }
}

transport::clock::time_point transport::next_timeout() const noexcept {
  auto at = ice_.consent_deadline();
  if (!dtls_) return at;
  if (auto due = dtls_->next_timeout()) at = std::min(at, *due);
  return at;
}

bool transport::send(packet_kind kind, std::vector<std::uint8_t> packet) {
  if (state_ != state::connected || !outbound_ || !ice_.selected()) return false;
  const auto s = kind == packet_kind::rtcp ? outbound_->protect_rtcp(packet) : outbound_->protect_rtp(packet);
  if (s != media::srtp::status::ok) return false;
  outgoing_.push_back({*ice_.selected(), std::move(packet)});
  return true;
}

void transport::close() {
  if (state_ == state::failed || state_ == state::closed) return;
  if (dtls_) dtls_->close();
  if (auto to = ice_.selected() ? ice_.selected() : dtls_peer_) flush_dtls(*to);
  state_ = state::closed;
}

}  // namespace junction::webrtc
