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

bool sends_in(sdp::direction d) { return d == sdp::direction::sendrecv || d == sdp::direction::sendonly; }
bool receives_in(sdp::direction d) { return d == sdp::direction::sendrecv || d == sdp::direction::recvonly; }

sdp::direction both(sdp::direction a, sdp::direction b) {
  const bool s = sends_in(a) && sends_in(b), r = receives_in(a) && receives_in(b);
  return s && r ? sdp::direction::sendrecv : s ? sdp::direction::sendonly : r ? sdp::direction::recvonly
                                                                          : sdp::direction::inactive;
}

bool is_opus(const sdp::codec& c) { return iequals(c.encoding, "opus") && c.clock_rate == 48000; }

// A dynamic payload type none of `used` has, trying `preferred` first.
std::uint8_t free_type(const std::vector<sdp::codec>& used, std::uint8_t preferred) {
  auto taken = [&](std::uint8_t pt) {
    return std::any_of(used.begin(), used.end(), [&](const sdp::codec& c) { return c.payload_type == pt; });
  };
  if (!taken(preferred)) return preferred;
  for (std::uint8_t pt = 96; pt < 128; ++pt)
    if (!taken(pt)) return pt;
  return preferred;
}

bool is_dtmf(const sdp::codec& c) { return iequals(c.encoding, "telephone-event"); }


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
  // What Junction does towards the browser is what the phone does, as far as the browser offered.
  plan.towards_browser = both(sdp::reversed(n.local), sdp::reversed(offered.dir));
  for (const auto& c : offered.codecs)
    if (carried_plain(c)) plan.browser_sends.push_back(c);
  for (const auto& m : phone_answer.media)
    if (m.media == "audio" && m.port != 0) {
      for (const auto& c : m.codecs)
        if (carried_plain(c)) plan.phone_sends.push_back(c);
      break;
    }
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


std::optional<std::size_t> phone_audio_section(const sdp::session_description& phone) {
  for (std::size_t i = 0; i < phone.media.size(); ++i) {
    const auto& m = phone.media[i];
    if (m.media == "audio" && m.port != 0 && std::any_of(m.codecs.begin(), m.codecs.end(), carried_plain)) return i;
  }
  return std::nullopt;
}

sdp::session_description browser_offer(const sdp::session_description& phone, std::size_t section,
                                       const browser_offer_parameters& p) {
  const auto& pm = phone.media.at(section);
  sdp::session_description s;
  s.session_id = p.session_id;
  s.session_version = 1;
  s.other.push_back({"ice-lite", "", false});
  s.other.push_back({"group", "BUNDLE 0", true});
  s.other.push_back({"msid-semantic", " WMS *", true});
  sdp::media_description m;
  m.media = "audio";
  m.protocol = "UDP/TLS/RTP/SAVPF";
  const webrtc::local_candidate* first = nullptr;
  for (const auto& c : p.candidates)
    if (!c.tcp) {
      first = &c;
      break;
    }
  m.port = first ? first->port : 9;
  m.connection = first ? first->address : "0.0.0.0";
  for (const auto& c : pm.codecs)
    if (carried_plain(c)) m.codecs.push_back(c);
  if (std::none_of(m.codecs.begin(), m.codecs.end(), [](const sdp::codec& c) { return iequals(c.encoding, "opus"); }))
    m.codecs.push_back({free_type(m.codecs, 111), "opus", 48000, 2, "minptime=10;useinbandfec=1"});
  const auto t8 = free_type(m.codecs, 126);
  m.codecs.push_back({t8, "telephone-event", 8000, 1, "0-15"});
  m.codecs.push_back({free_type(m.codecs, 110), "telephone-event", 48000, 1, "0-15"});
  for (const auto& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
  m.rtcp_mux = true;
  m.dir = phone.direction_of(pm);
  m.other.push_back({"mid", "0", true});
  m.other.push_back({"ice-ufrag", p.ice.ufrag, true});
  m.other.push_back({"ice-pwd", p.ice.pwd, true});
  m.other.push_back({"fingerprint", p.fingerprint, true});
  m.other.push_back({"setup", "actpass", true});
  m.other.push_back({"ssrc", std::to_string(p.ssrc) + " cname:junction", true});
  webrtc::add_candidates(m, p.candidates);
  s.media.push_back(std::move(m));
  return s;
}

std::optional<audio_plan> plan_for_browser_answer(const sdp::session_description& phone, std::size_t section,
                                                  const webrtc::offer& answer) {
  if (answer.media.empty() || answer.media.front().rejected || answer.media.front().kind != "audio")
    return std::nullopt;
  const auto& bm = answer.media.front();
  const auto& pm = phone.media.at(section);
  audio_plan plan;
  plan.browser_section = 0;
  auto first = std::find_if(bm.codecs.begin(), bm.codecs.end(), carried_plain);
  if (first == bm.codecs.end()) return std::nullopt;
  plan.browser = *first;
  auto same = std::find_if(pm.codecs.begin(), pm.codecs.end(),
                           [&](const sdp::codec& c) { return sdp::same_codec(c, plan.browser); });
  if (same == pm.codecs.end()) same = std::find_if(pm.codecs.begin(), pm.codecs.end(), carried_plain);
  if (same == pm.codecs.end()) return std::nullopt;
  plan.phone = *same;
  for (const auto& c : bm.codecs)
    if (is_dtmf(c) && c.clock_rate == plan.browser.clock_rate) plan.browser_dtmf = dtmf_codec{c.payload_type, c.clock_rate};
  for (const auto& c : pm.codecs)
    if (is_dtmf(c) && c.clock_rate == 8000) plan.phone_dtmf = dtmf_codec{c.payload_type, c.clock_rate};
  // Junction towards the browser does what the phone does, as far as the browser takes it.
  plan.towards_browser = both(phone.direction_of(pm), sdp::reversed(bm.dir));
  // The browser may send any codec of Junction's offer: the phone's (with its payload types)
  // and Opus (as the answer numbers it).
  for (const auto& c : pm.codecs)
    if (carried_plain(c)) plan.phone_sends.push_back(c), plan.browser_sends.push_back(c);
  for (const auto& c : bm.codecs)
    if (carried_plain(c) && std::none_of(plan.browser_sends.begin(), plan.browser_sends.end(),
                                         [&](const sdp::codec& x) { return x.payload_type == c.payload_type; }))
      plan.browser_sends.push_back(c);
  return plan;
}

sdp::session_description phone_answer(const sdp::session_description& phone, std::size_t section,
                                      const audio_plan& plan, const std::string& address, std::uint16_t port,
                                      std::uint64_t session_id, std::uint64_t version) {
  sdp::session_description s;
  s.session_id = session_id;
  s.session_version = version;
  s.origin_address = address;
  s.connection = address;
  for (std::size_t i = 0; i < phone.media.size(); ++i) {
    const auto& om = phone.media[i];
    sdp::media_description m;
    m.media = om.media;
    m.protocol = om.protocol;
    if (i != section) {
      m.port = 0;
      m.formats.push_back(om.formats.empty() ? "0" : om.formats.front());
      s.media.push_back(std::move(m));
      continue;
    }
    m.port = port;
    m.codecs.push_back(plan.phone);
    if (plan.phone_dtmf)
      for (const auto& c : om.codecs)
        if (c.payload_type == plan.phone_dtmf->payload_type) m.codecs.push_back(c);
    for (const auto& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
    if (om.ptime) m.ptime = om.ptime;
    // What Junction does towards the phone: the reverse of what it does towards the browser.
    m.dir = sdp::reversed(plan.towards_browser);
    s.media.push_back(std::move(m));
  }
  return s;
}

sdp::session_description browser_redescription(sdp::session_description last, std::size_t section,
                                               const audio_plan& plan, sdp::direction d, bool junction_is_dtls_client,
                                               std::uint64_t version) {
  last.session_version = version;
  if (section >= last.media.size()) return last;
  auto& m = last.media[section];
  m.dir = d;
  std::vector<sdp::codec> kept;
  for (const auto& c : m.codecs)
    if (c.payload_type == plan.browser.payload_type ||
        (plan.browser_dtmf && c.payload_type == plan.browser_dtmf->payload_type))
      kept.push_back(c);
  m.codecs = kept;
  m.formats.clear();
  for (const auto& c : kept) m.formats.push_back(std::to_string(c.payload_type));
  for (auto& a : m.other)
    if (a.name == "setup") a.value = junction_is_dtls_client ? "active" : "passive";
  return last;
}

sdp::direction towards_browser_after(sdp::direction phone_offered, sdp::direction browser_answered) {
  return both(phone_offered, sdp::reversed(browser_answered));
}

}  // namespace junction::sip_webrtc
