#include "media/rtp/header_extension.hpp"

namespace junction::media::rtp {

std::optional<bytes> find_extension(const header& h, std::uint8_t id) noexcept {
  if (!h.has_extension || id == 0) return std::nullopt;
  const bytes e = h.extension;
  const bool one_byte = h.extension_profile == 0xBEDE;
  const bool two_byte = (h.extension_profile & 0xFFF0) == 0x1000;
  if (!one_byte && !two_byte) return std::nullopt;
  std::size_t at = 0;
  while (at < e.size()) {
    if (e[at] == 0) {  // padding between elements
      ++at;
      continue;
    }
    std::uint8_t element = 0;
    std::size_t length = 0;
    if (one_byte) {
      element = e[at] >> 4;
      if (element == 15) return std::nullopt;  // the reserved id ends the parse (RFC 8285 §4.2)
      length = (e[at] & 0x0F) + 1u;
      at += 1;
    } else {
      if (at + 2 > e.size()) return std::nullopt;
      element = e[at];
      length = e[at + 1];
      at += 2;
    }
    if (at + length > e.size()) return std::nullopt;
    if (element == id) return e.subspan(at, length);
    at += length;
  }
  return std::nullopt;
}

std::optional<std::uint16_t> transport_sequence(const header& h, std::uint8_t id) noexcept {
  auto v = find_extension(h, id);
  if (!v || v->size() < 2) return std::nullopt;
  return static_cast<std::uint16_t>((*v)[0] << 8 | (*v)[1]);
}

}  // namespace junction::media::rtp
