// libFuzzer target for chunk_reader. Input: 4 bytes of piece sizes, then the chunk stream.
// Checks, beyond "no crash, no sanitizer report":
// - feed() never claims more bytes than it was given, and uses all of them unless it fails;
// - every message it produces survives chunked() -> fresh chunk_reader unchanged;
// - the whole sequence survives the compressing chunk_writer -> fresh chunk_reader unchanged.
#include "rtmp/chunk_reader.hpp"
#include "rtmp/chunk_writer.hpp"
#include "rtmp/control.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using namespace junction::rtmp;

// Small enough that the fuzzer reaches the limits, big enough for multi-chunk messages.
constexpr chunk_reader_limits limits{.max_message_size = 1 << 20, .max_chunk_streams = 16};

void require(bool ok) {
  if (!ok) std::abort();
}

bool same(const message& a, const message& b) {
  return a.chunk_stream_id == b.chunk_stream_id && a.type == b.type && a.timestamp == b.timestamp &&
         a.stream_id == b.stream_id && std::ranges::equal(a.payload.bytes(), b.payload.bytes());
}

// Reads `wire` with a fresh reader; it must be clean and complete.
std::vector<message> reread(std::span<const std::byte> wire) {
  chunk_reader reader{limits};
  std::vector<message> out;
  auto r = reader.feed(wire, out);
  require(!r.error && r.consumed == wire.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::uint8_t* pieces = data;  // piece sizes, cycled; 0 means "all the rest"
  const std::span<const std::byte> in{reinterpret_cast<const std::byte*>(data + 4), size - 4};

  chunk_reader reader{limits};
  std::vector<message> messages;
  for (std::size_t at = 0, i = 0; at < in.size(); ++i) {
    const std::size_t piece =
        pieces[i % 4] == 0 ? in.size() - at : std::min<std::size_t>(pieces[i % 4], in.size() - at);
    auto r = reader.feed(in.subspan(at, piece), messages);
    require(r.consumed <= piece);
    if (r.error) break;
    require(r.consumed == piece);
    at += piece;
  }
  require(reader.chunk_size() >= 1 && reader.chunk_size() <= 0xFFFFFF);

  // Each message alone, with a full header, at a chunk size chosen by the input.
  const std::uint32_t chunk_size = 1 + pieces[0] % 200;
  const auto set_size = chunked(set_chunk_size_message(chunk_size), 128);
  for (const message& m : messages) {
    std::vector<std::byte> wire(set_size.bytes().begin(), set_size.bytes().end());
    append_chunked(wire, m, chunk_size);
    auto back = reread(wire);
    require(back.size() == 2 && same(back[1], m));
  }

  // The whole sequence through the compressing writer, following the Set Chunk Size messages
  // the reader accepted, as a session would.
  chunk_writer writer;
  std::vector<std::byte> wire;
  for (const message& m : messages) {
    writer.write(wire, m);
    if (m.kind() == message_type::set_chunk_size)
      writer.set_chunk_size(*parse_set_chunk_size(m.payload.bytes()));
  }
  auto back = reread(wire);
  require(back.size() == messages.size());
  for (std::size_t i = 0; i < back.size(); ++i) require(same(back[i], messages[i]));
  return 0;
}
