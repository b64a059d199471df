// A WebRTC answerer made of Junction's WebRTC cores and one shard's port, for interoperability
// tests with independent peers (aiortc) before the server's own signalling exists: it reads an
// SDP offer on stdin, answers on stdout, then runs the port until --packets RTP packets have
// arrived, the transport has ended or --seconds have passed, and reports on stdout, one JSON
// object per line, each change of the transport's state and, at the end, the RTP and RTCP
// packets it decrypted. Loopback only.
//
//   webrtc_answerer --packets 100 --seconds 30 < offer.sdp
//   {"answer": "v=0\r\n..."}
//   {"state": "connected", "why": ""}
//   {"rtp": 398, "rtcp": 4, "payload_types": [111]}
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "core/metrics.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "media/sdp/session.hpp"
#include "webrtc/offer_answer.hpp"
#include "webrtc/port.hpp"

namespace {

using namespace junction;
using namespace junction::webrtc;

void say(const boost::json::object& o) { std::cout << boost::json::serialize(o) << std::endl; }

struct tally final : peer_events {
  std::uint64_t rtp = 0, rtcp = 0;
  std::set<int> payload_types;
  bool ended = false;
  void on_media(packet_kind kind, std::span<const std::uint8_t> packet) override {
    if (kind == packet_kind::rtcp) {
      ++rtcp;
      return;
    }
    ++rtp;
    if (packet.size() > 1) payload_types.insert(packet[1] & 0x7F);
  }
  void on_state(transport::state now, const std::string& why) override {
    static constexpr const char* names[] = {"checking", "connecting", "connected", "failed", "closed"};
    ended = now == transport::state::failed || now == transport::state::closed;
    say({{"state", names[static_cast<int>(now)]}, {"why", why}});
  }
};

}  // namespace

int main(int argc, char** argv) {
  int seconds = 30;
  std::uint64_t packets = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--packets") packets = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const std::string offer_text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};

  auto parsed = media::sdp::parse(offer_text);
  if (!parsed.ok()) {
    say({{"error", "the offer does not parse: " + parsed.describe()}});
    return 2;
  }
  auto read = read_offer(*parsed.session);
  if (auto* why = std::get_if<std::string>(&read)) {
    say({{"error", *why}});
    return 2;
  }
  const offer o = std::get<offer>(read);

  metric_registry registry;
  runtime rt(runtime_options{1, false, 100}, registry);
  shard& home = rt.at(0);
  auto certificate = dtls_certificate::generate();
  boost::system::error_code ec;
  auto port = webrtc_port::open(home, {boost::asio::ip::make_address("127.0.0.1"), 0}, certificate, {}, ec);
  if (!port) {
    say({{"error", "cannot open the port: " + ec.message()}});
    return 1;
  }
  port->start();

  answer_parameters p;
  p.ice = new_ice_credentials();
  p.fingerprint = certificate->fingerprint();
  p.candidates = {{"127.0.0.1", port->local_port(), false}};
  for (const auto& m : o.media) {
    p.choices.push_back(m.kind == "audio" ? choose_opus(m) : m.kind == "video" ? choose_video(m, true) : std::nullopt);
    p.directions.push_back(media::sdp::direction::recvonly);
  }
  tally events;
  auto id = port->add(p.ice, o.ice.ufrag, o.fingerprint, answer_role(o), events);
  if (!id) return 1;
  say({{"answer", media::sdp::serialize(make_answer(o, p))}});

  auto& io = home.context();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end && events.rtp < packets && !events.ended) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  boost::json::array types;
  for (int t : events.payload_types) types.push_back(t);
  say({{"rtp", events.rtp}, {"rtcp", events.rtcp}, {"payload_types", types}});
  // The port's loops end when the shard runs after stop(), before the runtime goes.
  port->stop();
  for (int i = 0; i < 100 && port.use_count() > 1; ++i) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  port.reset();
  return 0;
}
