#include "recording/anchored_call.hpp"

#include "core/log.hpp"
#include "media/rtp/audio_payload.hpp"
#include "media/rtp/packet.hpp"
#include "media/sdp/session.hpp"
#include "recording/call_recorder.hpp"
#include "recording/service.hpp"
#include "core/worker_pool.hpp"

namespace junction::recording {
namespace {

// What a party's packets are decoded as: its peer's description says what each payload type is.
std::map<std::uint8_t, transcode::audio_format> formats_of(const media::sdp::media_description& m) {
  std::map<std::uint8_t, transcode::audio_format> out;
  for (const auto& c : m.codecs)
    if (auto f = transcode::audio_format_of(c)) out.emplace(c.payload_type, *f);
  return out;
}

bool is_secure(std::string_view protocol) { return protocol == "RTP/SAVP" || protocol == "RTP/SAVPF"; }

// "sip:alice@example.com;transport=udp" -> "alice@example.com", as recording.users names users.
std::string aor_of(std::string_view uri) {
  if (auto colon = uri.find(':'); colon != std::string_view::npos) uri.remove_prefix(colon + 1);
  return std::string{uri.substr(0, uri.find_first_of(";?>"))};
}

}  // namespace

std::unique_ptr<anchored_call_tap> anchored_call_tap::make(service& svc, const sip::answered_call& call) {
  const auto& offer = call.offer;
  const auto& answer = call.answer;
  for (std::size_t i = 0; i < offer.media.size() && i < answer.media.size(); ++i) {
    const auto& o = offer.media[i];
    const auto& a = answer.media[i];
    if (o.media != "audio" || o.port == 0 || a.port == 0) continue;
    if (is_secure(o.protocol) || is_secure(a.protocol)) {
      log::info("recording: call {} is SRTP end to end: its media cannot be recorded", call.call_id);
      return nullptr;
    }
    auto caller = formats_of(a), callee = formats_of(o);
    if (caller.empty() || callee.empty()) break;
    std::unique_ptr<anchored_call_tap> tap{new anchored_call_tap(svc, svc.workers().assign())};
    tap->audio_index_ = i;
    tap->caller_formats_ = std::move(caller);
    tap->callee_formats_ = std::move(callee);
    recording_info info;
    info.id = svc.call_recording_id(call.call_id);
    info.kind = "call";
    info.call_id = call.call_id;
    info.from = call.caller;
    info.to = call.callee;
    info.started = std::chrono::system_clock::now();
    tap->recording_ = std::make_unique<call_recording>(svc, tap->worker_, std::move(info),
                                                       tap->callee_formats_.begin()->second);
    log::info("recording: anchored call {} ({} -> {}) as {}", call.call_id, call.caller, call.callee,
              tap->recording_->id());
    return tap;
  }
  log::info("recording: anchored call {} has no audio to record", call.call_id);
  return nullptr;
}

anchored_call_tap::anchored_call_tap(service& svc, std::size_t worker) : svc_(svc), worker_(worker) {}

anchored_call_tap::~anchored_call_tap() {
  recording_.reset();  // finished on the worker, after the packets posted before
  svc_.workers().release(worker_);
}

void anchored_call_tap::on_datagram(std::size_t index, bool from_caller, std::span<const std::uint8_t> datagram) {
  if (index != audio_index_ || media::rtp::is_rtcp(datagram)) return;
  auto parsed = media::rtp::parse_packet(datagram);
  if (!parsed.ok() || media::rtp::is_comfort_noise(*parsed.packet)) return;
  const auto& formats = from_caller ? caller_formats_ : callee_formats_;
  auto it = formats.find(parsed.packet->header.payload_type);
  if (it == formats.end()) return;  // telephone-event and the like: not sound
  recording_->rtp_audio(from_caller, parsed.packet->payload, it->second);
}

sip::relay_tap_factory anchored_call_taps(service& svc) {
  return [&svc](const sip::answered_call& call) -> std::unique_ptr<sip::relay_tap> {
    if (!svc.records_calls_of(aor_of(call.caller)) && !svc.records_calls_of(aor_of(call.callee))) return nullptr;
    return anchored_call_tap::make(svc, call);
  };
}

}  // namespace junction::recording
