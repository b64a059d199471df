// SDP parsing and offer/answer on arbitrary text. Checks, beyond "no crash": what parses
// serializes into text that parses to the same description, and the answer to any offer that
// parses is itself a description that parses, with one m= line per offered one.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "media/sdp/negotiation.hpp"
#include "media/sdp/session.hpp"

using namespace junction::media::sdp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = parse(text);
  if (!r.ok()) {
    if (!r.error || r.error.category() != sdp_category()) std::abort();  // every refusal says why
    return 0;
  }
  parse_limits roomy;
  roomy.max_size = 1 << 20;
  roomy.max_lines = 1 << 16;
  auto again = parse(serialize(*r.session), roomy);
  if (!again.ok() || !(*again.session == *r.session)) std::abort();

  local_endpoint local;
  local.media = {{"audio", {{0, "PCMU", 8000, 1, {}}, {8, "PCMA", 8000, 1, {}}}, true},
                 {"video", {{96, "H264", 90000, 1, "profile-level-id=42e01f;packetization-mode=1"}}, false}};
  local.make_key = [](std::string_view) { return std::string("inline:AAAA"); };
  std::vector<std::uint16_t> ports(r.session->media.size(), 40000);
  auto answer = answer_offer(*r.session, local, ports, 1);
  auto parsed = parse(serialize(answer.answer), roomy);
  if (!parsed.ok() || parsed.session->media.size() != r.session->media.size()) std::abort();
  return 0;
}
