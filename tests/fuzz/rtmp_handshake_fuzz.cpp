// Fuzzes the RTMP handshake state machines two ways:
// 1. hostile peer: the input (after its first byte) goes to a server and to a started client in
//    pieces of (first byte + 1) bytes; neither may crash, over-consume or emit oversize output.
// 2. honest peers: a client and a server whose randomness comes from the input must always
//    complete, agree on the digest schema and accept each other's C2/S2.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "rtmp/handshake.hpp"

namespace {

using namespace junction::rtmp;

void require(bool ok) {
  if (!ok) std::abort();
}

template <typename Handshake>
void feed_hostile(Handshake& hs, std::span<const std::byte> in, std::size_t piece) {
  std::size_t produced = 0;
  while (!in.empty()) {
    const auto part = in.first(std::min(piece, in.size()));
    const auto step = hs.feed(part);
    require(step.consumed <= part.size());
    produced += step.output.size();
    require(produced <= 1 + 2 * 1536);  // S0+S1+S2 at most
    if (step.error || step.done) {
      require(!(step.error && step.done));
      return;
    }
    require(step.consumed == part.size());  // not done: everything offered is taken
    in = in.subspan(part.size());
  }
}

// Randomness drawn cyclically from the fuzzer's bytes (all zeroes if there are none).
struct input_random {
  std::span<const std::byte> source;
  std::size_t at = 0;
  void operator()(std::span<std::byte> out) {
    for (auto& b : out) b = source.empty() ? std::byte{0} : source[at++ % source.size()];
  }
};

void honest_peers(std::span<const std::byte> random, std::uint8_t flags) {
  handshake_options client_options;
  client_options.digest = flags & 1;
  client_options.schema = (flags >> 1) & 1;
  client_options.epoch = flags * 0x01010101u;
  client_options.fill_random = input_random{random};
  handshake_options server_options;
  server_options.digest = (flags >> 2) & 1;
  server_options.fill_random = input_random{random, 7};

  client_handshake client(client_options);
  server_handshake server(server_options);
  const auto s = server.feed(client.start());
  require(!s.error && s.consumed == 1 + 1536 && s.output.size() == 1 + 2 * 1536);
  const auto c = client.feed(s.output);
  require(c.done && !c.error && c.consumed == s.output.size() && c.output.size() == 1536);
  const auto fin = server.feed(c.output);
  require(fin.done && !fin.error && fin.consumed == 1536);

  const bool digest = client_options.digest && server_options.digest;
  require(server.schema() == (digest ? client_options.schema : -1));
  require(client.schema() == server.schema());
  require(server.c2_echo_ok() && client.s2_echo_ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = std::size_t{data[0]} + 1;
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data) + 1, size - 1);

  server_handshake server;
  feed_hostile(server, in, piece);

  client_handshake client;
  client.start();
  feed_hostile(client, in, piece);

  honest_peers(in, data[0]);
  return 0;
}
