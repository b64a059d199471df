// libFuzzer target for flv::reader. Input: an FLV file (the seeds are real ones). Checks, beyond
// "no crash, no sanitizer report":
// - feed() never claims more bytes than it was given, and uses all of them unless it fails;
// - the file fed in pieces (sizes taken from the input itself) gives exactly the frames and the
//   error that one feed gives;
// - every frame survives flv::tag -> a fresh reader unchanged.
#include "media/flv.hpp"
#include "media/flv_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using namespace junction::media;

// Small enough that the fuzzer reaches the limit.
constexpr flv::reader_limits limits{.max_tag_size = 1 << 16, .max_header_size = 1 << 10};

void require(bool ok) {
  if (!ok) std::abort();
}

bool same(const frame& a, const frame& b) {
  return a.track == b.track && a.timestamp == b.timestamp && a.codec == b.codec &&
         a.keyframe == b.keyframe && a.config == b.config &&
         std::ranges::equal(a.payload.bytes(), b.payload.bytes());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in{reinterpret_cast<const std::byte*>(data), size};

  flv::reader whole{limits};
  std::vector<frame> frames;
  auto r = whole.feed(in, frames);
  require(r.consumed <= in.size());
  require(r.error || r.consumed == in.size());

  // The same bytes in pieces of 1..64 bytes, sizes cycled from the input's first bytes.
  flv::reader pieces{limits};
  std::vector<frame> again;
  std::error_code error;
  for (std::size_t at = 0, i = 0; at < in.size(); ++i) {
    const std::size_t piece =
        std::min<std::size_t>(1 + std::to_integer<std::size_t>(in[i % in.size()]) % 64, in.size() - at);
    auto p = pieces.feed(in.subspan(at, piece), again);
    require(p.consumed <= piece);
    if (p.error) {
      error = p.error;
      break;
    }
    require(p.consumed == piece);
    at += piece;
  }
  require(error == r.error);
  require(again.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) require(same(again[i], frames[i]));

  // Round trip through the tag writer.
  auto header = flv::file_header(true, true);
  std::vector<std::byte> file(header.begin(), header.end());
  for (const auto& f : frames) {
    auto t = flv::tag(f);
    file.insert(file.end(), t.bytes().begin(), t.bytes().end());
  }
  flv::reader reread{limits};
  std::vector<frame> back;
  auto b = reread.feed(file, back);
  require(!b.error && b.consumed == file.size() && reread.at_tag_boundary());
  require(back.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) require(same(back[i], frames[i]));
  return 0;
}
