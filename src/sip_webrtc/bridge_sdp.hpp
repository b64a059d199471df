#pragma once
// The descriptions of a call bridged between a browser (WebRTC) and a phone (plain RTP): the
// plain offer a phone gets for a browser's offer, and what the phone's answer settles (which
// codec each side sends, whether Junction transcodes between them, DTMF). Pure: descriptions
// in, descriptions out (docs/webrtc.md, "Browsers and phones").
//
// The phone is offered the browser's audio codecs that plain RTP carries as they are (Opus,
// G.722, PCMU, PCMA, in the browser's order), so that a phone taking one of them costs no
// transcoding; G.722, PCMU and PCMA are added after them when the browser did not offer them
// (Junction then transcodes from and to the browser's Opus). Only audio is bridged: the
// browser's other sections are rejected in its answer.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/sdp/session.hpp"
#include "webrtc/offer_answer.hpp"

namespace junction::sip_webrtc {

// One side's RFC 4733 events: its payload type and clock.
struct dtmf_codec {
  std::uint8_t payload_type = 0;
  std::uint32_t clock_rate = 8000;
};

// What the two sides of a bridged call send each other's way.
struct audio_plan {
  std::size_t browser_section = 0;  // the browser's audio m= section
  media::sdp::codec browser;        // what the browser sends and is sent (its payload type)
  media::sdp::codec phone;          // what the phone sends and is sent (its payload type)
  std::optional<dtmf_codec> browser_dtmf, phone_dtmf;
  media::sdp::direction towards_browser = media::sdp::direction::sendrecv;  // as Junction answers it
  // The audio codecs each side may send: any of what it was offered and has (a browser that
  // answers Opus may still send the offer's first codec). The bridge passes what the other side
  // takes as it is and transcodes the rest.
  std::vector<media::sdp::codec> browser_sends, phone_sends;
  // Different codecs (or rates): the audio is transcoded on a worker.
  bool transcoded() const;
};

// The browser's first audio section that is not rejected and offers Opus; nothing without one.
std::optional<std::size_t> browser_audio_section(const webrtc::offer& browser);

// The plain offer for the phone: one audio section at `address`:`port`.
media::sdp::session_description phone_offer(const webrtc::offer& browser, std::size_t section,
                                             const std::string& address, std::uint16_t port,
                                             std::uint64_t session_id);

// What the phone's answer to that offer settles: nothing when it took no codec the bridge can
// carry (or rejected the audio).
std::optional<audio_plan> plan_for_answer(const webrtc::offer& browser, std::size_t section,
                                          const media::sdp::session_description& phone_answer);

// Where the phone's audio is to be sent (its answer's address and port for the audio).
struct phone_media {
  std::string address;
  std::uint16_t port = 0;
};
std::optional<phone_media> phone_audio_address(const media::sdp::session_description& phone);

// The browser's answer, with the plan's codec in its audio section (and DTMF), the rest rejected.
media::sdp::session_description browser_answer(const webrtc::offer& browser, const audio_plan& plan,
                                               webrtc::answer_parameters params);

// A later offer from the browser (a re-INVITE: hold, resume) as the phone should get it: the
// first offer again with the browser's direction and a higher version.
media::sdp::session_description phone_reoffer(media::sdp::session_description first, media::sdp::direction d,
                                              std::uint64_t version);

// A phone calling a browser ------------------------------------------------------------------

// The phone's first audio section offering a codec the bridge carries; nothing without one.
std::optional<std::size_t> phone_audio_section(const media::sdp::session_description& phone);

struct browser_offer_parameters {
  webrtc::ice_credentials ice;
  std::string fingerprint;  // Junction's certificate's
  std::vector<webrtc::local_candidate> candidates;
  std::uint32_t ssrc = 0;   // what Junction sends the browser from
  std::uint64_t session_id = 0;
};

// The WebRTC offer for the browser: one audio section (BUNDLE, rtcp-mux, ICE-lite, actpass) with
// the phone's codecs a browser takes as they are (Opus, G.722, PCMU, PCMA) in the phone's order
// and with its payload types (a browser answers with the first it has: no transcoding), then Opus
// when the phone did not offer it (for a browser that takes only Opus: transcoded), and
// telephone-event at 8 and 48 kHz; the direction the phone offered.
media::sdp::session_description browser_offer(const media::sdp::session_description& phone, std::size_t section,
                                              const browser_offer_parameters& params);

// What the browser's answer (read with webrtc::read_offer) settles; nothing when it took no
// codec or rejected the audio.
std::optional<audio_plan> plan_for_browser_answer(const media::sdp::session_description& phone, std::size_t section,
                                                  const webrtc::offer& browser_answer);

// The plain answer to the phone: its audio section at `address`:`port` with the plan's codec
// (and DTMF), its other sections rejected.
media::sdp::session_description phone_answer(const media::sdp::session_description& phone, std::size_t section,
                                             const audio_plan& plan, const std::string& address, std::uint16_t port,
                                             std::uint64_t session_id, std::uint64_t version = 1);

// Re-INVITEs ---------------------------------------------------------------------------------

// Junction's last description to the browser made a later offer or answer: version `version`,
// the audio section's direction `d`, the one codec in use (and DTMF), and the DTLS role Junction
// already has (a=setup:active when it is the client, else passive: the association stays).
media::sdp::session_description browser_redescription(media::sdp::session_description last, std::size_t section,
                                                      const audio_plan& plan, media::sdp::direction d,
                                                      bool junction_is_dtls_client, std::uint64_t version);

// What Junction does towards the browser once the phone offered `phone_offered` (its own view)
// and the browser answered `browser_answered` (its own view).
media::sdp::direction towards_browser_after(media::sdp::direction phone_offered,
                                            media::sdp::direction browser_answered);

}  // namespace junction::sip_webrtc
