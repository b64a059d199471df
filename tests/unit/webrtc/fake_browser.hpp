#pragma once
// A browser's side of a WebRTC transport for the tests, made of the same cores: it sends checks
// as the controlling agent, is the DTLS server (it offered actpass, Junction answered active)
// and keys SRTP from DTLS. And a small clear RTP packet to send through it.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

#include "media/srtp/session.hpp"
#include "webrtc/dtls.hpp"
#include "webrtc/ice_lite.hpp"
#include "webrtc/stun.hpp"

namespace junction::webrtc::testing {

struct fake_browser {
  std::shared_ptr<const dtls_certificate> certificate = dtls_certificate::generate();
  ice_credentials ice = new_ice_credentials();
  std::unique_ptr<dtls_transport> dtls;
  std::unique_ptr<media::srtp::session> in, out;

  // Junction's certificate is the one the answer named.
  void expect(const dtls_certificate& junction) {
    dtls = std::make_unique<dtls_transport>(certificate, dtls_transport::role::server,
                                            *parse_fingerprint(junction.fingerprint()));
  }
  std::vector<std::uint8_t> check(const ice_credentials& junction, bool nominate = true) const {
    stun::message_writer w(stun::binding, stun::message_class::request, stun::new_transaction_id());
    w.add(stun::attr::username, junction.ufrag + ":" + ice.ufrag);
    w.add_u32(stun::attr::priority, 2130706431);
    w.add_u64(stun::attr::ice_controlling, 7);
    if (nominate) w.add_flag(stun::attr::use_candidate);
    return w.finish(junction.pwd, true);
  }
  // After the handshake: SRTP both ways from the keys DTLS exported.
  void keyed() {
    const auto& k = *dtls->keying();
    out = media::srtp::session::create(k.suite, k.local_master, media::srtp::session::direction::outbound);
    in = media::srtp::session::create(k.suite, k.remote_master, media::srtp::session::direction::inbound);
  }
};

inline std::vector<std::uint8_t> rtp_packet(std::uint16_t sequence, std::string_view payload) {
  const std::uint8_t header[12] = {0x80, 111, static_cast<std::uint8_t>(sequence >> 8), static_cast<std::uint8_t>(sequence),
                                   0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef};
  std::vector<std::uint8_t> p(sizeof header + payload.size());
  std::copy(std::begin(header), std::end(header), p.begin());
  std::copy(payload.begin(), payload.end(), p.begin() + sizeof header);
  return p;
}

}  // namespace junction::webrtc::testing
