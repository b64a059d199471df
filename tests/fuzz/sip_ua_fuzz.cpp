// The gateway's SIP user agent on arbitrary datagrams, in each state a line can be in (idle and
// registering, calling, ringing with an incoming call, a call up with re-INVITEs), and the digest
// challenge parser it uses.
// Checks, beyond "no crash": everything the agent sends parses as SIP, and an answer it writes
// to any challenge that parses is a set of credentials the server-side parser accepts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "sip/ua/user_agent.hpp"
#include "sip/parser.hpp"
#include "users/credentials.hpp"

using namespace junction;

namespace {

// `strict`: the input was well formed, so everything answering it must be too (a 400 to a
// malformed request copies its broken Via and From, as every SIP server's does).
void check_output(sip::ua::user_agent& agent, bool strict = true) {
  sip::parse_limits roomy;
  roomy.max_message = 1 << 20;
  for (const auto& d : agent.take_output())
    if (strict && !sip::parse_message(d.bytes, roomy, true).ok()) {
      std::fprintf(stderr, "unparseable output:\n%s\n", d.bytes.c_str());
      std::abort();
    }
  agent.take_events();
}

sip::ua::settings settings() {
  sip::ua::settings s;
  s.user = "alice";
  s.domain = "example.com";
  s.password = "pw";
  s.local_host = "127.0.0.1";
  s.local_port = 40000;
  s.proxy_host = "127.0.0.1";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto c = users::parse_challenge(bytes); c.ok()) {
    auto value = users::make_authorization(c.params, {.username = "u", .password = "p", .method = "INVITE",
                                                      .uri = "sip:b@example.com", .cnonce = "c"});
    if (!value.empty() && !users::parse_credentials(value).ok()) std::abort();
  }
  const auto now = sip::ua::clock::time_point(std::chrono::hours(1));
  const bool well_formed = sip::parse_message(bytes, sip::parse_limits{}, true).ok();
  for (int state = 0; state < 3; ++state) {
    sip::ua::user_agent agent(settings(), 7);
    if (state == 0) agent.registration().start(now);
    if (state == 1) agent.call().invite("bob@example.com", "v=0", now);
    check_output(agent);
    agent.on_datagram(bytes, "127.0.0.1", 5060, now);
    check_output(agent, well_formed);
    if (agent.call().state() == sip::ua::call_state::ringing) agent.call().accept("v=0", now);
    if (agent.call().state() == sip::ua::call_state::confirmed) {
      // A call that is up: our re-INVITE, then the input again (an answer to it, or their offer).
      agent.call().reinvite("v=0 hold", now);
      check_output(agent);
      agent.on_datagram(bytes, "127.0.0.1", 5060, now);
      for (const auto& e : agent.take_events())
        if (std::holds_alternative<sip::ua::event::reoffered>(e)) agent.call().answer_reoffer(200, "v=0", now);
      check_output(agent, well_formed);
    }
    agent.call().hang_up(now);
    agent.on_timer(now + std::chrono::seconds(40));
    check_output(agent, well_formed);
  }
  return 0;
}
