#include "sip_webrtc/bridge_sdp.hpp"

#include <algorithm>

#include "core/ascii.hpp"
#include "media/sdp/negotiation.hpp"

namespace junction::sip_webrtc {
namespace {

namespace sdp = media::sdp;

bool carried_plain(const sdp::codec& c) {
  return (iequals(c.encoding, "opus") && c.clock_rate == 48000) ||
         (c.clock_rate == 8000 && (iequals(c.encoding, "G722") || iequals(c.encoding, "PCMU") ||
                                   iequals(c.encoding, "PCMA")));
}

bool is_opus(const sdp::codec& c) { return iequals(c.encoding, "opus") && c.clock_rate == 48000; }

// The audio capabilities offered to the phone (see the header).
sdp::local_endpoint phone_side(const webrtc::offered_media& browser, const std::string& address) {
  sdp::local_endpoint local;
  local.address = address;
  local.rtcp_mux = false;
  local.srtp = sdp::srtp_policy::off;
  sdp::media_capabilities audio;
  audio.media = "audio";
  audio.telephone_event = true;
  bool opus = false;
  for (const auto& c : browser.codecs) {
    if (!carried_plain(c)) continue;
    if (std::any_of(audio.codecs.begin(), audio.codecs.end(), [&](const sdp::codec& x) { return sdp::same_codec(x, c); }))
      continue;
    opus = opus || is_opus(c);
    audio.codecs.push_back(c);
  }
  if (opus) {
    for (auto pt : {std::uint8_t{9}, std::uint8_t{0}, std::uint8_t{8}}) {
      auto c = sdp::static_payload_type(pt);
      if (c && std::none_of(audio.codecs.begin(), audio.codecs.end(),
                            [&](const sdp::codec& x) { return sdp::same_codec(x, *c); }))
        audio.codecs.push_back(*c);
    }
  }
  local.media.push_back(std::move(audio));
  return local;
}

// The browser's codec that is the same as `phone`'s, or its Opus.
std::optional<sdp::codec> browser_codec_for(const webrtc::offered_media& browser, const sdp::codec& phone) {
  for (const auto& c : browser.codecs)
    if (sdp::same_codec(c, phone)) return c;
  for (const auto& c : browser.codecs)
    if (is_opus(c)) return c;
  return std::nullopt;
}

}  // namespace

bool audio_plan::transcoded() const {
  return !iequals(browser.encoding, phone.encoding) || browser.clock_rate != phone.clock_rate;
}

std::optional<std::size_t> browser_audio_section(const webrtc::offer& browser) {
  for (std::size_t i = 0; i < browser.media.size(); ++i) {
    const auto& m = browser.media[i];
    if (m.kind == "audio" && !m.rejected && webrtc::choose_opus(m)) return i;
  }
  return std::nullopt;
}

sdp::session_description phone_offer(const webrtc::offer& browser, std::size_t section, const std::string& address,
                                     std::uint16_t port, std::uint64_t session_id) {
  const auto local = phone_side(browser.media.at(section), address);
  const std::uint16_t ports[] = {port};
  auto offer = sdp::make_offer(local, ports, session_id, 1);
  offer.media.front().dir = browser.media[section].dir;
  return offer;
}

std::optional<audio_plan> plan_for_answer(const webrtc::offer& browser, std::size_t section,
                                          const sdp::session_description& phone_answer) {
  const auto& offered = browser.media.at(section);
  const auto local = phone_side(offered, "0.0.0.0");
  const std::uint16_t ports[] = {1};
  const auto our_offer = sdp::make_offer(local, ports, 0, 1);
  auto agreed = sdp::read_answer(our_offer, phone_answer, local);
  if (agreed.empty() || !agreed.front().accepted) return std::nullopt;
  const auto& n = agreed.front();
  audio_plan plan;
  plan.browser_section = section;
  plan.phone = n.codecs.front();
  auto theirs = browser_codec_for(offered, plan.phone);
  if (!theirs) return std::nullopt;
  plan.browser = *theirs;
  if (n.telephone_event) plan.phone_dtmf = dtmf_codec{n.telephone_event->payload_type, n.telephone_event->clock_rate};
  for (const auto& c : offered.codecs)
    if (iequals(c.encoding, "telephone-event") && c.clock_rate == plan.browser.clock_rate)
      plan.browser_dtmf = dtmf_codec{c.payload_type, c.clock_rate};
  // What Junction does towards the browser is what the phone does.
  plan.towards_browser = sdp::reversed(n.local);
  return plan;
}

std::optional<phone_media> phone_audio_address(const sdp::session_description& phone) {
  for (const auto& m : phone.media)
    if (m.media == "audio" && m.port != 0) return phone_media{std::string{phone.address_of(m)}, m.port};
  return std::nullopt;
}

sdp::session_description browser_answer(const webrtc::offer& browser, const audio_plan& plan,
                                        webrtc::answer_parameters params) {
  params.choices.assign(browser.media.size(), std::nullopt);
  params.directions.assign(browser.media.size(), sdp::direction::inactive);
  params.send_ssrcs.resize(browser.media.size(), 0);
  params.choices[plan.browser_section] = webrtc::chosen_codec{plan.browser, std::nullopt};
  params.directions[plan.browser_section] = plan.towards_browser;
  auto answer = webrtc::make_answer(browser, params);
  if (plan.browser_dtmf && plan.phone_dtmf) {
    auto& m = answer.media.at(plan.browser_section);
    for (const auto& c : browser.media[plan.browser_section].codecs)
      if (c.payload_type == plan.browser_dtmf->payload_type) {
        m.codecs.push_back(c);
        m.formats.push_back(std::to_string(c.payload_type));
      }
  }
  return answer;
}

sdp::session_description phone_reoffer(sdp::session_description first, sdp::direction d, std::uint64_t version) {
  first.session_version = version;
  for (auto& m : first.media) m.dir = d;
  return first;
}

}  // namespace junction::sip_webrtc
