// Costs of SIP's per-message work with warm caches: parsing a datagram and writing a message out.
// Set beside the CPU per transaction of bench/sip_pairs.sh (which includes waking up, the system
// calls and cold caches), they tell how much of that is the parser's and serializer's own work.
#include "sip/parser.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {
using namespace junction::sip;

std::string crlf(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// What bench/sipp/uac.xml sends, as it arrives.
const std::string invite = crlf(
    "INVITE sip:callee@127.0.0.1:5060 SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.1:23825;branch=z9hG4bK-18373-1-0\n"
    "From: <sip:caller@127.0.0.1>;tag=18373i1\n"
    "To: <sip:callee@127.0.0.1>\n"
    "Call-ID: 1-18373@127.0.0.1\n"
    "CSeq: 1 INVITE\n"
    "Contact: <sip:caller@127.0.0.1:23825>\n"
    "Max-Forwards: 70\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 129\n"
    "\n"
    "v=0\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
    "s=-\n"
    "c=IN IP4 127.0.0.1\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n");

// The callee's 200 to the proxied INVITE: two Vias, a Record-Route.
const std::string ok = crlf(
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-j1.0.5d41402abc4b2a76b9719d911017c592;rport=5060\n"
    "Via: SIP/2.0/UDP 127.0.0.1:23825;branch=z9hG4bK-18373-1-0\n"
    "Record-Route: <sip:127.0.0.1:5060;lr;jm=0123456789abcdef0123>\n"
    "From: <sip:caller@127.0.0.1>;tag=18373i1\n"
    "To: <sip:callee@127.0.0.1>;tag=21700SIPpTag011\n"
    "Call-ID: 1-18373@127.0.0.1\n"
    "CSeq: 1 INVITE\n"
    "Contact: <sip:callee@127.0.0.1:21700;transport=UDP>\n"
    "Content-Length: 0\n"
    "\n");

void sip_parse_invite(benchmark::State& state) {
  const parse_limits limits{};
  for (auto _ : state) {
    auto result = parse_message(invite, limits, true);
    if (!result.ok()) state.SkipWithError("the INVITE does not parse");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(sip_parse_invite);

void sip_parse_response(benchmark::State& state) {
  const parse_limits limits{};
  for (auto _ : state) {
    auto result = parse_message(ok, limits, true);
    if (!result.ok()) state.SkipWithError("the 200 does not parse");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(sip_parse_response);

void sip_serialize_invite(benchmark::State& state) {
  auto result = parse_message(invite, parse_limits{}, true);
  if (!result.ok()) state.SkipWithError("the INVITE does not parse");
  for (auto _ : state) benchmark::DoNotOptimize(result.msg->serialize());
}
BENCHMARK(sip_serialize_invite);

}  // namespace
