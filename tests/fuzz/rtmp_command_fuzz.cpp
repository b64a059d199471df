// libFuzzer target for command dispatch: a fixed, valid handshake, then the fuzzer's bytes as the
// chunk stream of a connection, through the whole server protocol core (chunk layer, AMF,
// command decoding and the replies it makes alone). Every connect is accepted so that the
// commands behind it are dispatched too.
#include "rtmp/handshake.hpp"
#include "rtmp/server_protocol.hpp"

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {
using namespace junction::rtmp;

handshake_options fixed() {
  handshake_options o;
  o.fill_random = [](std::span<std::byte> b) {
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::byte(i);
  };
  return o;
}

// C0C1 and C2 of a plain client against a server with fixed randomness, computed once.
const std::vector<std::byte>& handshake_bytes() {
  static const std::vector<std::byte> bytes = [] {
    server_protocol_options options;
    options.handshake = fixed();
    server_protocol server{options};
    handshake_options client_options = fixed();
    client_options.digest = false;
    client_handshake client{client_options};
    auto out = client.start();
    std::vector<protocol_event> events;
    server.feed(out, events);
    auto c2 = client.feed(server.take_output()).output;
    out.insert(out.end(), c2.begin(), c2.end());
    return out;
  }();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  server_protocol_options options;
  options.handshake = fixed();
  options.chunk_limits.max_message_size = 1 << 20;
  server_protocol server{options};
  std::vector<protocol_event> events;
  auto fed = server.feed(handshake_bytes(), events);
  if (fed.error || events.size() != 1) std::abort();  // the fixed handshake must complete
  std::span input{reinterpret_cast<const std::byte*>(data), size};
  while (!input.empty()) {
    // Feed in pieces, to exercise partial chunk headers and messages.
    std::size_t piece = std::min<std::size_t>(input.size(), 1 + std::to_integer<std::size_t>(input[0]) * 3);
    events.clear();
    auto r = server.feed(input.first(piece), events);
    if (r.consumed > piece) std::abort();
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (auto* c = std::get_if<connect_request>(&events[i])) {
        server.accept_connect(*c);
        server.feed({}, events);
      } else if (auto* p = std::get_if<publish_request>(&events[i])) {
        server.publish_started(*p);
      } else if (auto* p = std::get_if<play_request>(&events[i])) {
        server.play_started(*p);
      } else if (auto* call = std::get_if<server_call>(&events[i])) {
        server.call_error(call->cmd, "NetConnection.Call.Failed", "fuzz");
      }
    }
    server.take_output();
    if (r.error) break;
    input = input.subspan(piece);
  }
  return 0;
}
