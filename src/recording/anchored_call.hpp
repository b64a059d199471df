#pragma once
// The recording of an anchored phone-to-phone call (sip.anchor_media): a tap on the call's media
// relay that hands each side's RTP audio to a call recording on a transcode worker. Left is the
// caller, right the callee; each packet is decoded in the codec its payload type names in the SDP
// of the side that receives it (RFC 3264: the answer's numbers for the caller's packets, the
// offer's for the callee's).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "sip/media_relay.hpp"
#include "transcode/audio_format.hpp"

namespace junction::recording {

class service;
class call_recording;

class anchored_call_tap final : public sip::relay_tap {
 public:
  // Nothing when the call has no audio this can record (none agreed, or SRTP, whose keys the
  // relay never sees).
  static std::unique_ptr<anchored_call_tap> make(service& svc, const sip::answered_call& call);
  ~anchored_call_tap() override;

  void on_datagram(std::size_t index, bool from_caller, std::span<const std::uint8_t> datagram) override;

 private:
  anchored_call_tap(service& svc, std::size_t worker);
  service& svc_;
  std::size_t worker_;
  std::size_t audio_index_ = 0;  // the m= line recorded
  std::map<std::uint8_t, transcode::audio_format> caller_formats_, callee_formats_;  // by payload type
  std::unique_ptr<call_recording> recording_;
};

// The factory the SIP server's relays call when an anchored call is answered: a tap for the calls
// recording.calls says to record (either party's address of record), else nothing.
sip::relay_tap_factory anchored_call_taps(service& svc);

}  // namespace junction::recording
