#include "gateway/call_media.hpp"

#include "media/enum_category.hpp"

#include <algorithm>

#include "media/srtp/session.hpp"

namespace junction::gateway {
namespace {

namespace sdp = media::sdp;

// gateway.srtp for our offers (answering = false) and our answers.
sdp::srtp_policy srtp_for(std::string_view setting, bool answering) {
  using sdp::srtp_policy;
  if (setting == "required") return srtp_policy::required;
  if (setting == "offer") return srtp_policy::offer;
  if (setting == "answer") return answering ? srtp_policy::offer : srtp_policy::off;
  return srtp_policy::off;
}

bool sends(sdp::direction d) { return d == sdp::direction::sendrecv || d == sdp::direction::sendonly; }
bool is_hold_address(std::string_view a) { return a == "0.0.0.0" || a == "::"; }

// A direction without its receiving half: what this side says while it holds the call.
sdp::direction without_receiving(sdp::direction d) {
  using sdp::direction;
  return d == direction::sendrecv || d == direction::sendonly ? direction::sendonly : direction::inactive;
}

}  // namespace

namespace {

std::string_view describe(call_media_errc e) noexcept {
  switch (e) {
    case call_media_errc::no_call: return "no call";
    case call_media_errc::reinvite_under_way: return "a re-INVITE is under way";
    case call_media_errc::session_unreadable: return "the call's session cannot be re-offered";
    case call_media_errc::answer_unreadable: return "the answer's SDP cannot be read";
    case call_media_errc::reoffer_mismatch: return "a re-offer that does not match the call's session";
    case call_media_errc::codec_dropped: return "a re-offer without the call's codec";
  }
  return "call media refused";
}

}  // namespace

const std::error_category& call_media_category() noexcept {
  static const enum_category<call_media_errc> category{"gateway.call_media", describe};
  return category;
}

std::error_code make_error_code(call_media_errc e) noexcept { return {static_cast<int>(e), call_media_category()}; }

call_media::settings call_media::for_line(std::string address, std::string srtp, std::uint64_t seed) {
  settings s;
  s.address = std::move(address);
  s.srtp = std::move(srtp);
  s.session_id = seed & 0xffffffff;
  s.make_key = [](std::string_view suite) {
    auto parsed = media::srtp::parse_suite(suite);
    return parsed ? media::srtp::make_inline_key(media::srtp::random_master(*parsed)) : std::string{};
  };
  return s;
}

void call_media::prepare(std::span<const std::string> codec_names, bool answering) {
  codecs_ = parse_codec_list(codec_names);
  local_ = {};
  local_.address = settings_.address;
  for (auto& m : capabilities(codecs_))
    if (!m.codecs.empty()) local_.media.push_back(std::move(m));
  // SRTP when the phone offers it (answers follow the offer); our offers are plain RTP/AVP,
  // which every phone takes, unless gateway.srtp says otherwise.
  local_.srtp = srtp_for(settings_.srtp, answering);
  local_.make_key = settings_.make_key;
  answer_.reset();
  bound_.clear();
}

// Ours for audio and (when we have video to offer or answer with) video, none for the rest.
std::vector<port_need> call_media::needs(const std::vector<std::string>& media) const {
  const bool video_offered =
      std::any_of(local_.media.begin(), local_.media.end(), [](const auto& m) { return m.media == "video"; });
  std::vector<port_need> out;
  for (const auto& m : media)
    out.push_back(m == "audio" ? port_need::audio : m == "video" && video_offered ? port_need::video : port_need::none);
  return out;
}

std::vector<port_need> call_media::plan_offer(std::span<const std::string> codec_names) {
  prepare(codec_names, false);
  std::vector<std::string> media;
  for (const auto& m : local_.media) media.push_back(m.media);
  bound_ = needs(media);
  return bound_;
}

std::string call_media::make_offer(std::span<const std::uint16_t> ports) {
  offer_ = sdp::make_offer(local_, ports, settings_.session_id, 1);
  return sdp::serialize(offer_);
}

std::optional<media_start> call_media::answered(std::string_view answer_sdp) {
  auto answer = sdp::parse(answer_sdp);
  std::vector<sdp::negotiated_media> agreed;
  if (answer.ok()) agreed = sdp::read_answer(offer_, *answer.session, local_);
  return start(std::move(agreed));
}

std::optional<std::vector<port_need>> call_media::plan_answer(std::span<const std::string> codec_names) {
  prepare(codec_names, true);
  auto offer = sdp::parse(their_offer_);
  if (!offer.ok()) return std::nullopt;
  std::vector<std::string> media;
  for (const auto& m : offer.session->media) media.push_back(m.media);
  bound_ = needs(media);
  return bound_;
}

bool call_media::answerable() {
  auto offer = sdp::parse(their_offer_);
  if (!offer.ok()) return false;
  std::vector<std::string> every;
  for (auto c : all_codec_choices()) every.emplace_back(choice_name(c));
  prepare(every, true);
  const std::vector<std::uint16_t> ports(offer.session->media.size(), 9);  // any port will do
  const bool any = sdp::answer_offer(*offer.session, local_, ports, settings_.session_id).any_accepted();
  prepare({}, true);  // the client's own list comes with accept
  return any;
}

std::optional<std::string> call_media::make_answer(std::span<const std::uint16_t> ports) {
  auto offer = sdp::parse(their_offer_);
  if (!offer.ok()) return std::nullopt;
  auto result = sdp::answer_offer(*offer.session, local_, ports, settings_.session_id);
  if (!result.any_accepted()) return std::nullopt;
  answer_ = std::move(result);
  return sdp::serialize(answer_->answer);
}

std::optional<media_start> call_media::accepted() {
  if (!answer_) return std::nullopt;
  return start(answer_->media);
}

std::optional<media_start> call_media::start(std::vector<sdp::negotiated_media> agreed) {
  agreed_ = std::move(agreed);
  holding_ = held_ = false;
  hold_asked_.reset();
  legs_ = {};
  const sdp::negotiated_media *audio = nullptr, *video = nullptr;
  for (const auto& m : agreed_) {
    if (!m.accepted || m.codecs.empty()) continue;
    if (m.media == "audio" && !audio) audio = &m;
    if (m.media == "video" && !video) video = &m;
  }
  const auto bound = [&](port_need n) { return std::find(bound_.begin(), bound_.end(), n) != bound_.end(); };
  media_start s;
  s.plan = plan(codecs_, agreed_);
  if (s.plan.xflv && video && bound(port_need::video)) {
    // Both ends are gateways: the client's RTMP messages go as x-flv on the video m= line.
    for (const auto& c : video->codecs)
      if (c.encoding == "x-flv") s.xflv_codec = c;
    if (!s.xflv_codec) return std::nullopt;
    s.xflv = *video;
    audio_in_use_.reset();
    video_in_use_ = s.xflv_codec;
    legs_.video = true;
    return s;
  }
  if (!audio || !bound(port_need::audio)) return std::nullopt;
  s.audio = *audio;
  s.phone_audio = s.plan.audio ? s.plan.phone_audio : audio->codecs.front();
  if (s.plan.dtmf && audio->telephone_event) s.telephone_event = audio->telephone_event->payload_type;
  if (video && bound(port_need::video) && s.plan.video == codec_choice::h264) s.video = *video;
  audio_in_use_ = s.phone_audio;
  video_in_use_ = video ? std::optional{video->codecs.front()} : std::nullopt;
  legs_.audio = true;
  legs_.video = s.video.has_value();
  return s;
}

void call_media::ended() {
  legs_ = {};
  holding_ = held_ = false;
  hold_asked_.reset();
}

bool call_media::has_leg(std::string_view media) const noexcept {
  return media == "audio" ? legs_.audio : media == "video" && legs_.video;
}

call_media::hold_step call_media::hold(bool on, std::string_view local_sdp) {
  hold_step step;
  if (!up()) {
    step.error = call_media_errc::no_call;
    return step;
  }
  if (on == holding_ && !hold_asked_) {
    step.already = true;
    return step;
  }
  if (hold_asked_) {
    step.error = call_media_errc::reinvite_under_way;
    return step;
  }
  auto current = sdp::parse(local_sdp);
  if (!current.ok()) {
    step.error = call_media_errc::session_unreadable;
    return step;
  }
  reoffer_ = std::move(*current.session);
  reoffer_.session_version += 1;
  reoffer_.dir.reset();
  for (auto& m : reoffer_.media)
    if (m.port != 0) m.dir = on ? sdp::direction::sendonly : sdp::direction::sendrecv;
  hold_asked_ = on;
  step.reoffer = sdp::serialize(reoffer_);
  return step;
}

std::optional<call_media::reanswer_result> call_media::reanswered(std::string_view answer_sdp) {
  const auto asked = std::exchange(hold_asked_, std::nullopt);
  if (!asked || !up()) return std::nullopt;
  reanswer_result r;
  auto answer = sdp::parse(answer_sdp);
  if (!answer.ok()) {
    r.error = call_media_errc::answer_unreadable;
    r.detail = answer.describe();
    return r;
  }
  holding_ = *asked;
  r.updates = apply(sdp::read_answer(reoffer_, *answer.session, local_));
  return r;
}

call_media::reoffer_result call_media::reoffered(std::string_view offer_sdp, std::string_view local_sdp) {
  reoffer_result r;
  auto offer = sdp::parse(offer_sdp);
  auto current = sdp::parse(local_sdp);
  if (!offer.ok() || !current.ok() || !up() || offer.session->media.size() != current.session->media.size()) {
    r.why = call_media_errc::reoffer_mismatch;
    return r;
  }
  auto answer = std::move(*current.session);
  auto agreed = sdp::read_answer(answer, *offer.session, local_);
  for (std::size_t i = 0; i < answer.media.size(); ++i) {
    auto& ours = answer.media[i];
    const auto& n = agreed[i];
    if (ours.port == 0) continue;
    const auto& in_use = ours.media == "audio" ? audio_in_use_ : video_in_use_;
    const bool kept = n.accepted && in_use && std::any_of(n.codecs.begin(), n.codecs.end(), [&](const auto& c) {
                        return sdp::same_codec(c, *in_use);
                      });
    if (has_leg(ours.media) && !kept) {
      r.why = call_media_errc::codec_dropped;
      r.medium = ours.media;
      return r;
    }
    // Our codecs that the offer still has, under the offer's payload types (RFC 3264 §6.1).
    std::vector<sdp::codec> codecs(n.codecs.begin(), n.codecs.end());
    if (n.telephone_event &&
        std::any_of(ours.codecs.begin(), ours.codecs.end(), [](const auto& c) { return c.encoding == "telephone-event"; }))
      codecs.push_back(*n.telephone_event);
    if (!codecs.empty()) {
      ours.codecs = std::move(codecs);
      ours.formats.clear();
      for (const auto& c : ours.codecs) ours.formats.push_back(std::to_string(c.payload_type));
    }
    auto& mine = agreed[i];
    if (holding_) mine.local = without_receiving(mine.local);
    ours.dir = mine.local;
  }
  answer.dir.reset();
  answer.session_version += 1;
  r.status = 200;
  r.answer = sdp::serialize(answer);
  const bool was_held = held_;
  r.updates = apply(std::move(agreed));
  r.held_changed = held_ != was_held;
  return r;
}

// Each leg sends (or not) and goes where the session now says; SRTP keys that changed are used.
std::vector<leg_update> call_media::apply(std::vector<sdp::negotiated_media> agreed) {
  std::vector<leg_update> updates;
  bool remote_hold = false;
  for (std::size_t i = 0; i < agreed.size(); ++i) {
    auto& n = agreed[i];
    if (!has_leg(n.media) || !n.accepted) continue;
    if (n.media == "audio" || !legs_.audio) remote_hold = n.remote_hold;
    leg_update u;
    u.media = n.media;
    u.sending = sends(n.local) && !is_hold_address(n.remote_address);
    if (!is_hold_address(n.remote_address) && n.remote_port) u.remote = {n.remote_address, n.remote_port};
    const auto* before = i < agreed_.size() ? &agreed_[i] : nullptr;
    if (n.local_crypto && n.remote_crypto && before && before->remote_crypto != n.remote_crypto)
      u.keys = {*n.local_crypto, *n.remote_crypto};
    updates.push_back(std::move(u));
  }
  held_ = remote_hold;
  agreed_ = std::move(agreed);
  return updates;
}

}  // namespace junction::gateway
