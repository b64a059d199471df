#include "sip_webrtc/bridges.hpp"

#include <random>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "sip/media_bridge.hpp"
#include "webrtc/shard_ports.hpp"

namespace junction::sip_webrtc {
namespace {

namespace sdp = media::sdp;

std::uint64_t random_session_id() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 20 | rd()) & 0x3FFFFFFFFFFFFull;
}

// The WebRTC parts of a description, or nothing.
std::optional<webrtc::offer> read_webrtc(std::string_view text) {
  auto parsed = sdp::parse(text);
  if (!parsed.ok()) return std::nullopt;
  auto read = webrtc::read_offer(*parsed.session);
  if (auto* o = std::get_if<webrtc::offer>(&read)) return std::move(*o);
  return std::nullopt;
}

// The direction of the first audio section of a description.
std::optional<sdp::direction> audio_direction_of(const sdp::session_description& s) {
  for (const auto& m : s.media)
    if (m.media == "audio" && m.port != 0) return s.direction_of(m);
  return std::nullopt;
}

}  // namespace

shard_bridges::shard_bridges(junction::shard& home, webrtc::shard_ports& ports, worker_pool& pool,
                             const bridge_metrics& metrics, std::string phone_address,
                             std::chrono::milliseconds idle_timeout)
    : home_(home),
      ports_(ports),
      pool_(pool),
      metrics_(metrics),
      phone_address_(std::move(phone_address)),
      idle_timeout_(idle_timeout),
      sweep_(home.context()) {}

shard_bridges::~shard_bridges() {
  for (auto& [id, c] : calls_) c.media->stop("the server is stopping");
}

// A new call's media (a repeated INVITE starts over), its phone side open; null when no port.
std::shared_ptr<bridged_call> shard_bridges::open_media(const std::string& call_id) {
  end(call_id);
  boost::system::error_code ec;
  auto media = bridged_call::open(home_, pool_, metrics_, phone_address_, ec);
  if (!media) log::warn("sip-webrtc: no RTP port for call {} on {}: {}", call_id, phone_address_, ec.message());
  return media;
}

std::optional<std::string> shard_bridges::bridge_offer(const std::string& call_id, std::string_view caller_tag,
                                                       std::string_view offer, bool callee_webrtc) {
  if (!ports_.at(home_.index())) return std::nullopt;  // the server is stopping
  if (callee_webrtc) return offer_to_browser(call_id, caller_tag, offer);
  auto browser = read_webrtc(offer);
  if (!browser) return std::nullopt;
  auto section = browser_audio_section(*browser);
  if (!section) return std::nullopt;
  auto media = open_media(call_id);
  if (!media) return std::nullopt;
  call c;
  c.caller_tag = caller_tag;
  c.section = *section;
  c.to_phone = sdp::serialize(phone_offer(*browser, *section, phone_address_, media->phone_port(), random_session_id()));
  c.browser = std::move(*browser);
  c.media = std::move(media);
  auto text = c.to_phone;
  calls_.emplace(call_id, std::move(c));
  home_.metrics().add(metrics_.bridges);
  if (calls_.size() == 1) expire();
  return text;
}

// A phone calling a browser: a WebRTC offer, and the browser's peer on the port waiting for the
// answer's fingerprint (its checks are answered meanwhile: a browser starts as soon as it has
// made its answer, before the answer reaches Junction).
std::optional<std::string> shard_bridges::offer_to_browser(const std::string& call_id, std::string_view caller_tag,
                                                           std::string_view offer) {
  auto parsed = sdp::parse(offer);
  if (!parsed.ok() || sip::is_webrtc_description(offer)) return std::nullopt;
  auto section = phone_audio_section(*parsed.session);
  auto* port = ports_.at(home_.index());
  if (!section || !port) return std::nullopt;
  auto media = open_media(call_id);
  if (!media) return std::nullopt;
  call c;
  c.browser_calls = false;
  c.caller_tag = caller_tag;
  c.plain_section = *section;
  c.phone_sdp = std::move(*parsed.session);
  c.local = webrtc::new_ice_credentials();
  if (!media->join(*port, c.local, {}, {}, webrtc::dtls_transport::role::server)) return std::nullopt;
  browser_offer_parameters params{c.local, ports_.certificate()->fingerprint(), ports_.candidates(home_.index()),
                                  media->browser_ssrc(), random_session_id()};
  c.to_browser = sdp::serialize(browser_offer(c.phone_sdp, c.plain_section, params));
  c.media = std::move(media);
  auto text = c.to_browser;
  calls_.emplace(call_id, std::move(c));
  home_.metrics().add(metrics_.bridges);
  if (calls_.size() == 1) expire();
  return text;
}

std::optional<std::string> shard_bridges::bridge_answer(const std::string& call_id, std::string_view answer,
                                                        int status) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  call& c = it->second;
  if (c.answered) return c.browser_calls ? c.to_browser : c.to_phone;
  if (!c.browser_calls) return answer_from_browser(it, answer);
  auto parsed = sdp::parse(answer);
  std::optional<audio_plan> plan;
  std::optional<phone_media> phone;
  if (parsed.ok()) {
    plan = plan_for_answer(c.browser, c.section, *parsed.session);
    phone = phone_audio_address(*parsed.session);
  }
  auto* port = ports_.at(home_.index());
  if (!plan || !phone || !port) {
    erase(it, "the phone's answer has no audio the bridge can carry");
    return std::nullopt;
  }
  c.local = webrtc::new_ice_credentials();
  if (!c.media->join(*port, c.local, c.browser.ice.ufrag, c.browser.fingerprint, webrtc::answer_role(c.browser))) {
    erase(it, "the shard's WebRTC port is full");
    return std::nullopt;
  }
  c.media->begin(*plan, *phone);
  home_.metrics().add(metrics_.calls);
  webrtc::answer_parameters params;
  params.ice = c.local;
  params.fingerprint = ports_.certificate()->fingerprint();
  params.candidates = ports_.candidates(home_.index());
  params.send_ssrcs.assign(c.browser.media.size(), 0);
  params.send_ssrcs[c.section] = c.media->browser_ssrc();
  params.session_id = random_session_id();
  c.to_browser = sdp::serialize(browser_answer(c.browser, *plan, params));
  c.answered = true;
  log::info("sip-webrtc: call {} bridged ({} answered {})", call_id, status, plan->phone.encoding);
  return c.to_browser;
}

std::optional<std::string> shard_bridges::answer_from_browser(std::unordered_map<std::string, call>::iterator it,
                                                              std::string_view answer) {
  call& c = it->second;
  auto browser = read_webrtc(answer);
  auto plan = browser ? plan_for_browser_answer(c.phone_sdp, c.plain_section, *browser) : std::nullopt;
  auto phone = phone_audio_address(c.phone_sdp);
  if (!plan || !phone) {
    erase(it, "the browser's answer has no audio the bridge can carry");
    return std::nullopt;
  }
  if (!c.media->complete(browser->ice.ufrag, browser->fingerprint, webrtc::answer_role(*browser))) {
    erase(it, "the browser's side ended before its answer came");
    return std::nullopt;
  }
  c.browser = std::move(*browser);
  c.media->begin(*plan, *phone);
  c.phone_session = random_session_id();
  home_.metrics().add(metrics_.calls);
  c.to_phone = sdp::serialize(
      phone_answer(c.phone_sdp, c.plain_section, *plan, phone_address_, c.media->phone_port(), c.phone_session));
  c.answered = true;
  log::info("sip-webrtc: call {} bridged (the browser answered {})", it->first, plan->browser.encoding);
  return c.to_phone;
}

std::optional<std::string> shard_bridges::bridge_reoffer(const std::string& call_id, std::string_view from_tag,
                                                         std::string_view offer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end() || !it->second.answered) return std::nullopt;
  call& c = it->second;
  const std::size_t section = c.browser_calls ? c.section : 0;
  if ((from_tag == c.caller_tag) != c.browser_calls) {
    // The phone's: Junction's last description to the browser, offered again with the phone's
    // direction.
    auto phone = sdp::parse(offer);
    if (!phone.ok() || sip::is_webrtc_description(offer)) return std::nullopt;
    auto phone_section = phone_audio_section(*phone.session);
    auto last = sdp::parse(c.to_browser);
    if (!phone_section || !last.ok()) return std::nullopt;
    const auto d = phone.session->direction_of(phone.session->media[*phone_section]);
    c.phone_pending = std::move(*phone.session);
    c.pending.reset();
    const bool client = webrtc::answer_role(c.browser) == webrtc::dtls_transport::role::client;
    return sdp::serialize(browser_redescription(*last.session, section, c.media->plan(), d, client, ++c.version));
  }
  // The browser's: a hold or a resume (the same ICE credentials; an ICE restart is not bridged).
  auto browser = read_webrtc(offer);
  if (!browser || browser->ice.ufrag != c.browser.ice.ufrag || section >= browser->media.size()) return std::nullopt;
  auto ours = sdp::parse(c.to_phone);
  if (!ours.ok()) return std::nullopt;
  c.pending = browser->media[section].dir;
  c.phone_pending.reset();
  return sdp::serialize(phone_reoffer(*ours.session, *c.pending, ++c.version));
}

std::optional<std::string> shard_bridges::bridge_reanswer(const std::string& call_id, std::string_view offerer_tag,
                                                          std::string_view answer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  call& c = it->second;
  const std::size_t section = c.browser_calls ? c.section : 0;
  const bool from_phone = (offerer_tag == c.caller_tag) != c.browser_calls;
  if (from_phone && c.phone_pending) {
    // The browser answered the phone's re-offer: the phone gets a plain answer.
    auto phone_offer = std::move(*c.phone_pending);
    c.phone_pending.reset();
    auto parsed = sdp::parse(answer);
    auto phone_section = phone_audio_section(phone_offer);
    auto phone = phone_audio_address(phone_offer);
    if (!parsed.ok() || !phone_section || !phone || section >= parsed.session->media.size()) return std::nullopt;
    const auto browser_dir = parsed.session->direction_of(parsed.session->media[section]);
    c.media->update(*phone, towards_browser_after(phone_offer.direction_of(phone_offer.media[*phone_section]),
                                                  browser_dir));
    if (!c.phone_session) c.phone_session = random_session_id();
    c.to_phone = sdp::serialize(phone_answer(phone_offer, *phone_section, c.media->plan(), phone_address_,
                                             c.media->phone_port(), c.phone_session, c.version));
    return c.to_phone;
  }
  if (from_phone || !c.pending) return std::nullopt;
  c.pending.reset();
  auto parsed = sdp::parse(answer);
  if (!parsed.ok()) return std::nullopt;
  auto phone = phone_audio_address(*parsed.session);
  auto dir = audio_direction_of(*parsed.session);
  if (!phone || !dir) return std::nullopt;
  // What Junction does towards the browser is what the phone does.
  c.media->update(*phone, *dir);
  auto ours = sdp::parse(c.to_browser);
  if (!ours.ok() || section >= ours.session->media.size()) return std::nullopt;
  const bool client = webrtc::answer_role(c.browser) == webrtc::dtls_transport::role::client;
  c.to_browser = sdp::serialize(
      browser_redescription(*ours.session, section, c.media->plan(), c.media->plan().towards_browser, client, c.version));
  return c.to_browser;
}

void shard_bridges::end(const std::string& call_id) {
  auto it = calls_.find(call_id);
  if (it != calls_.end()) erase(it, "the call ended");
}

void shard_bridges::erase(std::unordered_map<std::string, call>::iterator it, const std::string& why) {
  it->second.media->stop(why);
  calls_.erase(it);
  home_.metrics().sub(metrics_.bridges);
}

// Bridges whose media ended (the browser's transport), or that nothing came through for the
// idle timeout (a lost BYE), go; checked every five seconds (more often for short timeouts).
void shard_bridges::expire() {
  using namespace std::chrono_literals;
  sweep_.expires_after(std::clamp<std::chrono::milliseconds>(idle_timeout_ / 2, 100ms, 5s));
  sweep_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = calls_.begin(); it != calls_.end();) {
      auto next = std::next(it);
      if (it->second.media->ended()) {
        erase(it, "its media ended");
      } else if (now - it->second.media->last_packet() > idle_timeout_) {
        log::info("sip-webrtc: bridge of {} idle: closed", it->first);
        erase(it, "idle");
      }
      it = next;
    }
    if (!calls_.empty()) expire();
  });
}

sip::media_bridge_factory make_bridge_factory(webrtc::shard_ports& ports, worker_pool& pool,
                                              const bridge_metrics& metrics, std::string phone_address,
                                              std::chrono::milliseconds idle_timeout) {
  return [&ports, &pool, &metrics, phone_address = std::move(phone_address),
          idle_timeout](junction::shard& home) -> std::unique_ptr<sip::media_bridges> {
    return std::make_unique<shard_bridges>(home, ports, pool, metrics, phone_address, idle_timeout);
  };
}

}  // namespace junction::sip_webrtc
