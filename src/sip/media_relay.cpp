#include "sip/media_relay.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "media/net/rtp_endpoint.hpp"
#include "media/sdp/session.hpp"

namespace junction::sip {
namespace {

namespace asio = boost::asio;

}  // namespace

relay_metrics relay_metrics::declare(metric_registry& r) {
  relay_metrics m;
  m.relays = r.add("junction_sip_media_relays", "Calls whose media Junction relays (sip.anchor_media).",
                   metric_kind::gauge);
  m.packets = r.add("junction_sip_media_relayed_packets_total", "RTP/RTCP packets relayed for anchored calls.",
                    metric_kind::counter);
  return m;
}

// One medium: the endpoint each side sends to. Packets the caller sends to `from_caller` go to
// the callee out of `from_callee`, and the other way round; each endpoint learns where its side
// is (from the SDP, then from the packets).
struct relay_pair {
  struct direction final : media::rtp_receiver {
    media::rtp_endpoint* out = nullptr;  // the other side's endpoint
    void on_datagram(media::datagram_kind, std::span<const std::uint8_t> datagram) override;
  };
  std::shared_ptr<media::rtp_endpoint> from_caller, from_callee;
  direction to_callee, to_caller;
  bool open() const noexcept { return from_caller != nullptr; }
};

struct media_relays::call {
  std::vector<std::unique_ptr<relay_pair>> media;  // by m= line
  std::string caller_tag;                 // the caller's From tag: which side a re-INVITE is from
  media::sdp::session_description offer;  // as the caller wrote it
  std::unique_ptr<relay_tap> tap;         // once answered, when the call is recorded
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();

  ~call() { close(); }
  void close() {
    for (auto& m : media) {
      if (!m->open()) continue;
      m->from_caller->stop();
      m->from_callee->stop();
    }
    tap.reset();
  }
  // When the last packet came, from either side of any medium.
  std::chrono::steady_clock::time_point last_packet() const {
    auto last = created;
    for (auto& m : media)
      if (m->open()) last = std::max({last, m->from_caller->last_received(), m->from_callee->last_received()});
    return last;
  }
  // Starts relaying medium `index`; the tap sees each datagram with its m= line and its side.
  void start(std::size_t index) {
    auto& p = *media[index];
    p.to_callee.out = p.from_callee.get();
    p.to_caller.out = p.from_caller.get();
    p.from_caller->set_tap([this, index](media::datagram_kind, std::span<const std::uint8_t> d) {
      if (tap) tap->on_datagram(index, true, d);
    });
    p.from_callee->set_tap([this, index](media::datagram_kind, std::span<const std::uint8_t> d) {
      if (tap) tap->on_datagram(index, false, d);
    });
    p.from_caller->start(p.to_callee);
    p.from_callee->start(p.to_caller);
  }
};

void relay_pair::direction::on_datagram(media::datagram_kind, std::span<const std::uint8_t> datagram) {
  out->send(datagram);  // as it came (SRTP too): the phones' keys are theirs
}

media_relays::media_relays(junction::shard& home, std::string address, std::chrono::milliseconds idle_timeout,
                           const relay_metrics& metrics)
    : home_(home), address_(std::move(address)), idle_timeout_(idle_timeout), metrics_(metrics), sweep_(home.context()) {}

media_relays::~media_relays() {
  calls_.clear();
}

std::optional<std::string> media_relays::rewrite_offer(const std::string& call_id, std::string_view caller_tag,
                                                       std::string_view offer) {
  auto parsed = media::sdp::parse(offer);
  if (!parsed.ok()) return std::nullopt;
  auto& sdp = *parsed.session;
  boost::system::error_code ec;
  const auto relay_address = asio::ip::make_address(address_, ec);
  if (ec) return std::nullopt;
  end(call_id);  // a retransmitted or repeated INVITE starts over
  auto c = std::make_unique<call>();
  c->offer = sdp;
  c->caller_tag = caller_tag;
  media::rtp_endpoint_counters counters;
  counters.sent = metrics_.packets;
  for (auto& m : sdp.media) {
    auto pair = std::make_unique<relay_pair>();
    if (m.port != 0) {
      pair->from_caller = media::rtp_endpoint::open(home_, relay_address, counters, ec);
      if (!ec) pair->from_callee = media::rtp_endpoint::open(home_, relay_address, counters, ec);
      if (ec) return std::nullopt;
      auto caller_address = asio::ip::make_address(std::string{sdp.address_of(m)}, ec);
      if (!ec) pair->from_caller->set_remote({caller_address, m.port});
      m.port = pair->from_callee->local_port();
      m.connection = address_;
      m.rtcp_port.reset();  // RTCP: muxed, or on port+1 of the relay's socket (not relayed)
    }
    c->media.push_back(std::move(pair));
  }
  sdp.connection = address_;
  sdp.origin_address = address_;
  for (std::size_t i = 0; i < c->media.size(); ++i)
    if (c->media[i]->open()) c->start(i);
  calls_[call_id] = std::move(c);
  home_.metrics().add(metrics_.relays);
  if (calls_.size() == 1) expire();
  return media::sdp::serialize(sdp);
}

std::optional<std::string> media_relays::rewrite_answer(const std::string& call_id, std::string_view answer,
                                                        int status, std::string_view caller, std::string_view callee) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  auto parsed = media::sdp::parse(answer);
  if (!parsed.ok()) return std::nullopt;
  auto& c = *it->second;
  // The tap sees the answer as the callee wrote it.
  if (status / 100 == 2 && !c.tap && tap_factory_)
    c.tap = tap_factory_(answered_call{call_id, std::string{caller}, std::string{callee}, c.offer, *parsed.session});
  return point_at_relay(c, *parsed.session, false);
}

std::string media_relays::point_at_relay(call& c, media::sdp::session_description& sdp, bool from_caller) {
  boost::system::error_code ec;
  for (std::size_t i = 0; i < sdp.media.size() && i < c.media.size(); ++i) {
    auto& m = sdp.media[i];
    auto& pair = *c.media[i];
    const std::string address{sdp.address_of(m)};
    // A stream this relay has no sockets for, or one held the RFC 2543 way (c=0.0.0.0), stays
    // as written.
    if (m.port == 0 || !pair.open()) continue;
    if (address == "0.0.0.0" || address == "::") {
      m.connection = address;
      continue;
    }
    auto where = asio::ip::make_address(address, ec);
    if (!ec) (from_caller ? pair.from_caller : pair.from_callee)->set_remote({where, m.port});
    m.port = (from_caller ? pair.from_callee : pair.from_caller)->local_port();
    m.connection = address_;
    m.rtcp_port.reset();
  }
  sdp.connection = address_;
  sdp.origin_address = address_;
  return media::sdp::serialize(sdp);
}

std::optional<std::string> media_relays::rewrite_reoffer(const std::string& call_id, std::string_view from_tag,
                                                         std::string_view offer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  auto parsed = media::sdp::parse(offer);
  if (!parsed.ok()) return std::nullopt;
  return point_at_relay(*it->second, *parsed.session, from_tag == it->second->caller_tag);
}

std::optional<std::string> media_relays::rewrite_reanswer(const std::string& call_id, std::string_view offerer_tag,
                                                          std::string_view answer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  // The answer comes from the side that did not offer.
  auto parsed = media::sdp::parse(answer);
  if (!parsed.ok()) return std::nullopt;
  return point_at_relay(*it->second, *parsed.session, offerer_tag != it->second->caller_tag);
}

void media_relays::end(const std::string& call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  calls_.erase(it);
  home_.metrics().sub(metrics_.relays);
}

// Relays nobody sent through for the idle timeout (a lost BYE) go, checked every five seconds
// (more often when the timeout is shorter).
void media_relays::expire() {
  using namespace std::chrono_literals;
  sweep_.expires_after(std::clamp<std::chrono::milliseconds>(idle_timeout_ / 2, 100ms, 5s));
  sweep_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (now - it->second->last_packet() > idle_timeout_) {
        log::info("sip: media relay of {} idle: closed", it->first);
        it = calls_.erase(it);
        home_.metrics().sub(metrics_.relays);
      } else {
        ++it;
      }
    }
    if (!calls_.empty()) expire();
  });
}

std::string with_body(std::string_view wire, std::string_view body) {
  auto end = wire.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::string{wire};
  std::string out;
  out.reserve(end + body.size() + 32);
  // Header lines as they were but Content-Length (long or compact form), written again.
  std::size_t at = 0;
  while (at < end) {
    auto eol = wire.find("\r\n", at);
    if (eol == std::string_view::npos || eol > end) eol = end;
    std::string_view line = wire.substr(at, eol - at);
    auto colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? line : line.substr(0, colon);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const bool length = name.size() == 14 ? std::equal(name.begin(), name.end(), "content-length",
                                                       [](char a, char b) { return std::tolower(a) == b; })
                                          : (name == "l" || name == "L");
    if (!length) out.append(line).append("\r\n");
    at = eol + 2;
  }
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return out;
}

}  // namespace junction::sip
