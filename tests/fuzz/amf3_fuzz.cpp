// libFuzzer target for the AMF3 decoder. Input: one AMF3 value (what follows marker 0x11).
// Checks, beyond "no crash, no sanitizer report":
// - the decoder never claims more bytes than it was given;
// - whatever decodes re-encodes (with string and traits references) into bytes that decode
//   again to an equal value, under the same default limits, using every byte;
// - the same value written as AMF0 (0x11 and AMF0 containers) decodes to an equal value too.
// Equality is skipped when a NaN makes it meaningless; decoding must still succeed.
#include "media/amf/amf0.hpp"
#include "media/amf/amf3.hpp"

#include "amf_fuzz_checks.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using namespace junction::media::amf;

using fuzz::has_nan;

void require(bool ok, const char* what) { fuzz::require(ok, "amf3", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  auto rest = input;
  value v;
  if (decode_amf3_value(rest, v)) {
    require(rest.size() == input.size(), "failed decode moved the span");
    return 0;
  }
  require(rest.size() < input.size(), "value took no bytes");
  const bool comparable = !has_nan(v);

  std::vector<std::byte> amf3;
  encode_amf3(v, amf3);
  std::span<const std::byte> amf3_rest(amf3);
  value again;
  require(!decode_amf3_value(amf3_rest, again), "re-encoded AMF3 does not decode");
  require(amf3_rest.empty(), "re-encoded AMF3 has bytes left over");
  require(!comparable || again == v, "re-encoded AMF3 value differs");

  std::vector<std::byte> amf0;
  encode_amf0(v, amf0);
  std::vector<value> values;
  require(!decode_amf0(amf0, values), "value written as AMF0 does not decode");
  require(values.size() == 1, "value written as AMF0 decodes to several");
  require(!comparable || values[0] == v, "value written as AMF0 differs");
  return 0;
}
