#include "sip/media_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "media/sdp/session.hpp"

namespace junction::sip {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

}  // namespace

relay_metrics relay_metrics::declare(metric_registry& r) {
  relay_metrics m;
  m.relays = r.add("junction_sip_media_relays", "Calls whose media Junction relays (sip.anchor_media).",
                   metric_kind::gauge);
  m.packets = r.add("junction_sip_media_relayed_packets_total", "RTP/RTCP packets relayed for anchored calls.",
                    metric_kind::counter);
  return m;
}

// One medium: the socket each side sends to, and where each side is.
struct relay_pair {
  udp::socket from_caller, from_callee;  // the caller sends to from_caller's port, the callee to from_callee's
  udp::endpoint caller, callee;          // learnt from the SDP, then from the packets
  relay_pair(asio::io_context& io) : from_caller(io), from_callee(io) {}
};

struct media_relays::call : std::enable_shared_from_this<call> {
  std::vector<std::unique_ptr<relay_pair>> media;  // by m= line
  std::chrono::steady_clock::time_point last_packet = std::chrono::steady_clock::now();
  bool ended = false;
  std::string caller_tag;                 // the caller's From tag: which side a re-INVITE is from
  media::sdp::session_description offer;  // as the caller wrote it
  std::unique_ptr<relay_tap> tap;         // once answered, when the call is recorded

  void close() {
    ended = true;
    tap.reset();
    boost::system::error_code ec;
    for (auto& m : media) {
      m->from_caller.close(ec);
      m->from_callee.close(ec);
    }
  }

  // Packets arriving on `in` go out of `out` to `*to`; `*from` learns where they come from. The
  // m= line `index` and the side (`from_caller`) are for the tap.
  asio::awaitable<void> pump(udp::socket& in, udp::socket& out, udp::endpoint* from, udp::endpoint* to,
                             std::size_t index, bool from_caller, junction::shard& home,
                             const relay_metrics& metrics) {
    auto self = shared_from_this();
    std::vector<std::uint8_t> buffer(2048);
    udp::endpoint source;
    while (!ended) {
      auto [ec, n] = co_await in.async_receive_from(asio::buffer(buffer), source, no_throw);
      if (ended) break;
      if (ec) {
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
        continue;
      }
      last_packet = std::chrono::steady_clock::now();
      *from = source;
      if (tap) tap->on_datagram(index, from_caller, {buffer.data(), n});
      if (to->port() == 0) continue;
      boost::system::error_code sent;
      out.send_to(asio::buffer(buffer.data(), n), *to, 0, sent);
      if (!sent) home.metrics().add(metrics.packets);
    }
  }
};

media_relays::media_relays(junction::shard& home, std::string address, std::chrono::milliseconds idle_timeout,
                           const relay_metrics& metrics)
    : home_(home), address_(std::move(address)), idle_timeout_(idle_timeout), metrics_(metrics), sweep_(home.context()) {}

media_relays::~media_relays() {
  for (auto& [id, c] : calls_) c->close();
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
  auto c = std::make_shared<call>();
  c->offer = sdp;
  c->caller_tag = caller_tag;
  for (auto& m : sdp.media) {
    auto pair = std::make_unique<relay_pair>(home_.context());
    if (m.port != 0) {
      auto caller_address = asio::ip::make_address(std::string{sdp.address_of(m)}, ec);
      if (!ec) pair->caller = {caller_address, m.port};
      for (auto* s : {&pair->from_caller, &pair->from_callee}) {
        s->open(relay_address.is_v6() ? udp::v6() : udp::v4(), ec);
        if (!ec) s->bind({relay_address, 0}, ec);
        if (ec) return std::nullopt;
      }
      m.port = pair->from_callee.local_endpoint().port();
      m.connection = address_;
      m.rtcp_port.reset();  // RTCP: muxed, or on port+1 of the relay's socket (not relayed)
    }
    c->media.push_back(std::move(pair));
  }
  sdp.connection = address_;
  sdp.origin_address = address_;
  for (std::size_t i = 0; i < c->media.size(); ++i) {
    auto& p = c->media[i];
    if (!p->from_caller.is_open()) continue;
    asio::co_spawn(home_.context(),
                   c->pump(p->from_caller, p->from_callee, &p->caller, &p->callee, i, true, home_, metrics_),
                   asio::detached);
    asio::co_spawn(home_.context(),
                   c->pump(p->from_callee, p->from_caller, &p->callee, &p->caller, i, false, home_, metrics_),
                   asio::detached);
  }
  calls_[call_id] = c;
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
    if (m.port == 0 || !pair.from_caller.is_open()) continue;
    if (address == "0.0.0.0" || address == "::") {
      m.connection = address;
      continue;
    }
    auto where = asio::ip::make_address(address, ec);
    if (!ec) (from_caller ? pair.caller : pair.callee) = {where, m.port};
    m.port = (from_caller ? pair.from_callee : pair.from_caller).local_endpoint().port();
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
  it->second->close();
  calls_.erase(it);
  home_.metrics().sub(metrics_.relays);
}

// Relays nobody sent through for the idle timeout (a lost BYE) go, checked every few seconds.
void media_relays::expire() {
  sweep_.expires_after(std::chrono::seconds(5));
  sweep_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (now - it->second->last_packet > idle_timeout_) {
        log::info("sip: media relay of {} idle: closed", it->first);
        it->second->close();
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
