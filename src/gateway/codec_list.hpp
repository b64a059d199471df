#pragma once
// The codec list a siprtmp client gives with `invite` and `accept` (rtmplite's siprtmp API),
// turned into what Junction offers the phone, and the phone's answer turned back into what the
// client is told in `accepted(audioCodec, videoCodec)` and what the media path must do.
//
//   name        the Flash client sends and receives        SDP
//   wideband    Speex 16 kHz                                speex/16000
//   narrowband  Speex 16 kHz out, Speex 8 kHz back           speex/8000 (transcoded)
//   pcmu, pcma  G.711 itself (Flash Player 11)              PCMU/8000, PCMA/8000
//   ulaw, alaw  Speex                                       PCMU/8000, PCMA/8000 (transcoded)
//   opus, g722  Speex (beyond siprtmp)                      opus/48000/2, G722/8000 (transcoded)
//   dtmf        sendDTMF                                    telephone-event/8000
//   h264        H.264                                       H264/90000 (passed through)
//   flv         any RTMP media                              x-flv/90000 (passed through)
//
// The list is in the client's order of preference; with none, siprtmp's default is "wideband",
// "dtmf", "flv", and `accepted` then gets no codec arguments (backward compatibility). Pure.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/frame.hpp"
#include "media/sdp/negotiation.hpp"

namespace junction::gateway {

enum class codec_choice { wideband, narrowband, pcmu, pcma, ulaw, alaw, opus, g722, dtmf, h264, flv };

std::optional<codec_choice> parse_codec_choice(std::string_view name) noexcept;
std::string_view choice_name(codec_choice c) noexcept;
// Every choice there is, in the enum's order.
std::vector<codec_choice> all_codec_choices();

struct codec_list {
  std::vector<codec_choice> choices;  // preference order, no repeats
  bool given = false;                 // the client named codecs (else: siprtmp's default)
  std::vector<std::string> unknown;   // names it gave that mean nothing here (ignored)
};

codec_list parse_codec_list(std::span<const std::string> names);

// The audio and video capabilities to offer or answer with, for sdp::answer_offer/make_offer.
std::vector<media::sdp::media_capabilities> capabilities(const codec_list& list);

// What the negotiation came to, for the client and for the media path.
struct call_media_plan {
  // `accepted` arguments: audio "speex", "pcmu", "pcma" or "default"; video "h264" or
  // "default"; nothing when that medium is off. Both absent when the client gave no list.
  std::optional<std::string> audio_callback, video_callback;
  std::optional<codec_choice> audio, video;  // the choices that won
  bool xflv = false;                         // RTMP messages go as x-flv (both media)
  media::codec client_audio = media::codec::unknown;  // what the Flash side sends and is sent
  int client_rate = 16000;
  media::sdp::codec phone_audio;             // what the phone side gets (from the agreed SDP)
  bool transcode_audio = false;
  bool dtmf = false;
};

// `agreed` is the negotiation's outcome per m= line (answer_offer's or read_answer's).
call_media_plan plan(const codec_list& list, std::span<const media::sdp::negotiated_media> agreed);

}  // namespace junction::gateway
