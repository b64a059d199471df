#pragma once
// The media side of one gateway call, decided from offers and answers (RFC 3264) and nothing
// else: which local ports the m= lines need, the offer or answer to send, which legs to start
// with which codecs, and what hold and the phone's re-INVITEs change for each leg (direction,
// address, SRTP keys). A line (line.cpp) binds the ports, runs the legs and talks SIP; this core
// owns none of that and is unit-tested with SDP in and decisions out. Pure.
//
// A call goes: plan_offer -> make_offer -> answered (outgoing), or offered -> plan_answer ->
// make_answer -> accepted (incoming); then hold / reanswered / reinvite_failed and reoffered
// while it is up; ended when it is over.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "gateway/codec_list.hpp"
#include "media/sdp/negotiation.hpp"
#include "media/sdp/session.hpp"

namespace junction::gateway {

// Why the call's media refuses a step (the category "gateway.call_media").
enum class call_media_errc {
  no_call = 1,         // hold asked with no call up
  reinvite_under_way,  // hold asked while our re-INVITE waits for its answer
  session_unreadable,  // the SDP we last sent does not parse (cannot be re-offered)
  answer_unreadable,   // the answer to our re-offer does not parse
  reoffer_mismatch,    // the phone's re-offer does not match the call's session
  codec_dropped,       // the phone's re-offer leaves out the codec a leg was set up for
};
const std::error_category& call_media_category() noexcept;
std::error_code make_error_code(call_media_errc e) noexcept;

// What an m= line needs bound locally before the offer or answer can name its port.
enum class port_need { none, audio, video };

// What the legs of a call start with.
struct media_start {
  call_media_plan plan;
  media::sdp::negotiated_media audio;              // the audio leg's m= line (when !xflv)
  media::sdp::codec phone_audio;                   // what the audio leg sends to the phone
  std::optional<std::uint8_t> telephone_event;     // its payload type, when DTMF was agreed
  std::optional<media::sdp::negotiated_media> video;  // an H.264 video leg's m= line
  std::optional<media::sdp::negotiated_media> xflv;   // both ends gateways: the x-flv m= line
  std::optional<media::sdp::codec> xflv_codec;
  bool srtp() const noexcept { return (xflv ? xflv->local_crypto : audio.local_crypto).has_value(); }
};

// A change for one running leg ("audio", or "video" for the video or x-flv leg).
struct leg_update {
  std::string media;
  bool sending = true;  // false: hold, send RTCP only
  std::optional<std::pair<std::string, std::uint16_t>> remote;                  // where to send now
  std::optional<std::pair<media::sdp::crypto, media::sdp::crypto>> keys;        // new SRTP (ours, theirs)
};

class call_media {
 public:
  struct settings {
    std::string address;            // gateway.media_address, named in our SDP
    std::string srtp = "off";       // gateway.srtp: off, answer, offer, required
    std::uint64_t session_id = 0;   // o= line
    std::function<std::string(std::string_view suite)> make_key;  // fresh SDES key parameters
  };
  explicit call_media(settings s) : settings_(std::move(s)) {}
  // The settings a gateway line uses: its media address, gateway.srtp, a session id from `seed`,
  // and fresh random SDES keys.
  static settings for_line(std::string address, std::string srtp, std::uint64_t seed);

  // An outgoing call with the client's codec names: what each m= line of our offer needs.
  // Empty when there is no codec to offer.
  std::vector<port_need> plan_offer(std::span<const std::string> codec_names);
  // The offer, with ports[i] bound for m= line i.
  std::string make_offer(std::span<const std::uint16_t> ports);
  // The phone's answer to it: what to start; nothing when no audio (or x-flv) was agreed.
  std::optional<media_start> answered(std::string_view answer_sdp);

  // An incoming call's offer, kept until the client accepts or rejects.
  void offered(std::string offer_sdp) { their_offer_ = std::move(offer_sdp); }
  // Whether some client could answer that offer at all: it reads, and one of its m= lines has a
  // codec the gateway handles over a transport gateway.srtp allows. A call that fails this is
  // refused (488) before the client is rung: no choice of the client's could take it.
  bool answerable();
  // Accepting with the client's codec names: what each m= line of the offer needs; nothing when
  // the offer cannot be read.
  std::optional<std::vector<port_need>> plan_answer(std::span<const std::string> codec_names);
  // The answer, with ports[i] bound; nothing when nothing is in common with the offer.
  std::optional<std::string> make_answer(std::span<const std::uint16_t> ports);
  // What to start once that answer went out; nothing when no audio was agreed.
  std::optional<media_start> accepted();

  // The client's hold (true) or resume: the re-offer to send (our session as it is, sendonly or
  // sendrecv again, `local_sdp` being the SDP we last sent), or `already` when nothing needs to
  // change, or an error for the client.
  struct hold_step {
    std::optional<std::string> reoffer;
    bool already = false;
    std::error_code error;  // no_call, reinvite_under_way, session_unreadable
  };
  hold_step hold(bool on, std::string_view local_sdp);
  // The answer to our re-offer: the legs' updates, or an error for the client (holdFailed).
  // Nothing when no hold was asked.
  struct reanswer_result {
    std::vector<leg_update> updates;
    std::error_code error;  // answer_unreadable
    std::string detail;     // with it: the SDP parser's line and reason
  };
  std::optional<reanswer_result> reanswered(std::string_view answer_sdp);
  void reinvite_failed() { hold_asked_.reset(); }
  bool hold_pending() const noexcept { return hold_asked_.has_value(); }

  // The phone's re-offer (hold, resume, a new address): answered with the session in force
  // (`local_sdp`: same ports, keys and codecs, narrowed to what the new offer still lists) and
  // the direction that follows from its offer and our own hold. A change of codec is refused
  // with 488: the legs were set up for one.
  struct reoffer_result {
    int status = 488;
    std::string answer;               // with 200
    std::vector<leg_update> updates;  // with 200
    std::error_code why;              // with 488: reoffer_mismatch or codec_dropped
    std::string medium;               // with codec_dropped: "audio" or "video"
    bool held_changed = false;        // the phone's hold began or ended (see held())
  };
  reoffer_result reoffered(std::string_view offer_sdp, std::string_view local_sdp);

  // The call's media ended (or never started).
  void ended();

  bool up() const noexcept { return legs_.audio || legs_.video; }
  bool holding() const noexcept { return holding_; }  // the client holds the call
  bool held() const noexcept { return held_; }        // the phone holds it
  const codec_list& codecs() const noexcept { return codecs_; }

 private:
  void prepare(std::span<const std::string> codec_names, bool answering);
  std::vector<port_need> needs(const std::vector<std::string>& media) const;
  std::optional<media_start> start(std::vector<media::sdp::negotiated_media> agreed);
  std::vector<leg_update> apply(std::vector<media::sdp::negotiated_media> agreed);
  bool has_leg(std::string_view media) const noexcept;

  settings settings_;
  codec_list codecs_;
  media::sdp::local_endpoint local_;
  media::sdp::session_description offer_;   // ours, for reading the answer
  std::string their_offer_;                 // an incoming call's SDP
  std::optional<media::sdp::answer_result> answer_;  // ours to it
  std::vector<port_need> bound_;             // per m= line of the offer or answer
  struct {
    bool audio = false, video = false;  // the legs running ("video": H.264 or x-flv)
  } legs_;
  std::vector<media::sdp::negotiated_media> agreed_;  // what was agreed last, per m= line
  bool holding_ = false, held_ = false;
  std::optional<bool> hold_asked_;
  media::sdp::session_description reoffer_;
  std::optional<media::sdp::codec> audio_in_use_, video_in_use_;  // what the legs were set up for
};

}  // namespace junction::gateway

template <>
struct std::is_error_code_enum<junction::gateway::call_media_errc> : std::true_type {};
