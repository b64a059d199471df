#pragma once
// A browser's SDP offer as WebRTC reads it (JSEP, RFC 8829): its ICE credentials (RFC 8839), its
// DTLS fingerprint and role (RFC 8842), its BUNDLE group (RFC 8843) and, per m= section, the mid,
// the codecs with their feedback and the RTP header extensions. And the answer Junction gives:
// ICE-lite with its own credentials and candidates, its certificate's fingerprint, every section
// on one BUNDLE transport with rtcp-mux, and in each section the one codec it takes (or the
// section rejected). Pure: descriptions in, descriptions out.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "media/sdp/session.hpp"
#include "webrtc/dtls.hpp"
#include "webrtc/ice_lite.hpp"

namespace junction::webrtc {

struct rtp_extension {
  std::uint8_t id = 0;
  std::string uri;
  friend bool operator==(const rtp_extension&, const rtp_extension&) = default;
};

// The header extensions Junction reads and writes (RFC 8843 §15, RFC 5285 ids from the offer).
namespace extension_uri {
inline constexpr std::string_view mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view abs_send_time = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view transport_cc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view audio_level = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
// Simulcast (RFC 8852): which layer a packet belongs to, and which one an RTX packet repairs.
inline constexpr std::string_view rtp_stream_id = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view repaired_rtp_stream_id = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
}  // namespace extension_uri

struct offered_media {
  std::string kind;  // "audio", "video", "application"
  std::string mid;
  media::sdp::direction dir = media::sdp::direction::sendrecv;
  bool rejected = false;  // port 0
  std::vector<media::sdp::codec> codecs;
  std::vector<std::pair<std::uint8_t, std::string>> feedback;  // a=rtcp-fb: payload type, "nack pli"
  std::vector<rtp_extension> extensions;
  std::vector<std::uint32_t> ssrcs;  // a=ssrc, in order, without repeats
  // a=rid ... send (RFC 8851): the simulcast layers the browser sends, in its order; only ids
  // that are 1-16 letters, digits, '-' or '_' (what fits a one-byte header extension).
  std::vector<std::string> rids;
};

struct offer {
  ice_credentials ice;  // the browser's ufrag and password
  fingerprint_value fingerprint;
  std::string setup;  // "actpass", "active" or "passive"
  std::vector<std::string> bundle;
  std::vector<offered_media> media;
};

// The offer's WebRTC parts, or a sentence saying what is missing or wrong (for a 400).
std::variant<offer, std::string> read_offer(const media::sdp::session_description& sdp);

// The codec a section takes: Opus for audio; for video H.264 with packetization-mode 1 (the
// constrained baseline profile first: what RTMP players decode everywhere) when `h264` is
// wanted, else VP8. Its RTX payload type (RFC 4588, apt=) comes along when offered.
struct chosen_codec {
  media::sdp::codec codec;
  std::optional<media::sdp::codec> rtx;
};
std::optional<chosen_codec> choose_opus(const offered_media& m);
std::optional<chosen_codec> choose_video(const offered_media& m, bool prefer_h264);

// Whether `rid` is a simulcast layer's id Junction takes (RFC 8851 rid-syntax, at most 16
// characters: what fits a one-byte header extension).
bool is_rid(std::string_view rid);

// An ICE candidate of Junction's (RFC 8839 §5.1): a UDP host candidate, or ICE-TCP passive.
struct local_candidate {
  std::string address;
  std::uint16_t port = 0;
  bool tcp = false;
};

struct answer_parameters {
  ice_credentials ice;
  std::string fingerprint;  // "sha-256 AB:..." (dtls_certificate::fingerprint)
  std::vector<local_candidate> candidates;
  // Per offered section, in order: the codec taken, or nothing (the section is rejected).
  std::vector<std::optional<chosen_codec>> choices;
  // What Junction does in each section: sends (a WHEP player), receives (a WHIP publisher), both.
  std::vector<media::sdp::direction> directions;
  // For the sections Junction sends in: the SSRC it sends from (and the RTX one) and a CNAME.
  std::vector<std::uint32_t> send_ssrcs, send_rtx_ssrcs;
  // For the sections Junction receives simulcast in: the layers it takes (a=rid ... recv and
  // a=simulcast:recv, RFC 8853); empty for none.
  std::vector<std::vector<std::string>> receive_rids;
  // For the sections Junction sends in: leave transport-wide congestion control out (extension
  // and feedback), so the browser estimates the path itself and says so in REMB.
  bool receiver_estimates = false;
  std::string cname = "junction";
  std::uint64_t session_id = 0;
};

// Junction's candidates as a=candidate lines of `m` (host; ICE-TCP passive after UDP), then
// a=end-of-candidates.
void add_candidates(media::sdp::media_description& m, const std::vector<local_candidate>& candidates);

// The DTLS role Junction takes for an offer's a=setup (RFC 8842 §5.3): active when the browser
// lets it choose, so the handshake starts as soon as ICE does.
dtls_transport::role answer_role(const offer& o);

media::sdp::session_description make_answer(const offer& o, const answer_parameters& p);

}  // namespace junction::webrtc
