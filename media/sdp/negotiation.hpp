#pragma once
// SDP offer/answer (RFC 3264) for the media Junction terminates: answering a phone's offer,
// making offers, and reading the answer to one. Codecs are matched by encoding name, clock rate
// and channels, H.264 also by packetization-mode and profile (RFC 6184 §8.2.2, the level may
// go down); telephone-event (RFC 4733) rides along with audio; rtcp-mux (RFC 5761) is used when
// both want it; SDES-SRTP (RFC 4568) picks the first offered suite this side supports. A stream
// nothing can be agreed for is rejected with port 0, the others keep their place. Pure: keys
// come from a function the caller gives.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/sdp/session.hpp"

namespace junction::media::sdp {

struct media_capabilities {
  std::string media;                 // "audio", "video"
  std::vector<codec> codecs;         // what this side handles, most preferred first (payload
                                     // types and fmtp are what an offer from here uses)
  bool telephone_event = false;      // RFC 4733 DTMF (audio)
};

enum class srtp_policy { off, offer, required };

struct local_endpoint {
  std::string address = "127.0.0.1";
  std::vector<media_capabilities> media;
  std::uint32_t ptime = 20;          // for audio
  bool rtcp_mux = true;
  srtp_policy srtp = srtp_policy::offer;
  std::vector<std::string> crypto_suites{"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80",
                                         "AES_CM_128_HMAC_SHA1_32"};
  // "inline:<base64>" key parameters for a suite: fresh random key material per call.
  std::function<std::string(std::string_view suite)> make_key;
};

// What both sides agreed for one m= line.
struct negotiated_media {
  std::size_t index = 0;             // its m= line
  std::string media;
  bool accepted = false;
  std::vector<codec> codecs;         // agreed, the first is the one to send
  std::optional<codec> telephone_event;
  std::string remote_address;
  std::uint16_t remote_port = 0;
  std::uint16_t remote_rtcp_port = 0;  // = remote_port when muxed
  bool rtcp_mux = false;
  direction local = direction::sendrecv;  // what this side does
  bool remote_hold = false;          // the peer put the stream on hold (sendonly/inactive/0.0.0.0)
  std::uint32_t ptime = 20;
  std::optional<crypto> local_crypto, remote_crypto;  // when SRTP
};

struct answer_result {
  session_description answer;
  std::vector<negotiated_media> media;
  bool any_accepted() const noexcept;
};

// `ports` gives the local RTP port for each m= line of the offer (0: refuse that stream).
answer_result answer_offer(const session_description& offer, const local_endpoint& local,
                           std::span<const std::uint16_t> ports, std::uint64_t session_id);

// An offer with one m= line per capability, at `ports`.
session_description make_offer(const local_endpoint& local, std::span<const std::uint16_t> ports,
                               std::uint64_t session_id, std::uint64_t version);

// Reads the answer to `offer` (which this side made): what was agreed, per m= line.
std::vector<negotiated_media> read_answer(const session_description& offer, const session_description& answer,
                                          const local_endpoint& local);

// Codec equality for negotiation (RFC 3264 §6.1 with RFC 6184's H.264 rules).
bool same_codec(const codec& a, const codec& b) noexcept;

// "profile-level-id=42e01f;packetization-mode=1" -> the value of `name`, or empty.
std::string_view fmtp_value(std::string_view fmtp, std::string_view name) noexcept;

}  // namespace junction::media::sdp
