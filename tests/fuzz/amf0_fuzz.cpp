// libFuzzer target for the AMF0 decoder (and, through marker 0x11, the AMF3 one). Input: one
// command/data message body. Checks, beyond "no crash, no sanitizer report":
// - whatever decodes re-encodes into bytes that decode again, under the same default limits;
// - and decode to equal values (skipped when a NaN makes equality meaningless);
// - decode_amf0_value over the same bytes never reads past them.
#include "media/amf/amf0.hpp"

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

void require(bool ok, const char* what) { fuzz::require(ok, "amf0", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));

  auto rest = input;
  value one;
  if (decode_amf0_value(rest, one))
    require(rest.size() == input.size(), "failed decode moved the span");
  else
    require(rest.size() < input.size(), "value took no bytes");

  std::vector<value> values;
  if (decode_amf0(input, values)) return 0;
  std::vector<std::byte> encoded;
  for (const auto& v : values) encode_amf0(v, encoded);
  std::vector<value> again;
  require(!decode_amf0(encoded, again), "re-encoded values do not decode");
  require(again.size() == values.size(), "re-encoded value count differs");
  for (std::size_t i = 0; i < values.size(); ++i)
    require(has_nan(values[i]) || again[i] == values[i], "re-encoded value differs");
  return 0;
}
