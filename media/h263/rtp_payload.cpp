#include "media/h263/rtp_payload.hpp"

#include <algorithm>
#include <utility>

namespace junction::media::h263 {

std::vector<std::vector<std::uint8_t>> packetize(bytes picture, std::size_t mtu) {
  std::vector<std::vector<std::uint8_t>> out;
  mtu = std::max<std::size_t>(mtu, 16);
  std::size_t at = 0;
  // A picture starts with its PSC, 0000 0000 0000 0000 1000 00..: P replaces the two zero bytes.
  const bool starts_with_psc = picture.size() >= 3 && picture[0] == 0 && picture[1] == 0 && (picture[2] & 0x80);
  bool first = true;
  if (starts_with_psc) at = 2;
  while (at < picture.size()) {
    const std::size_t n = std::min(mtu - 2, picture.size() - at);
    std::vector<std::uint8_t> p;
    p.reserve(2 + n);
    p.push_back(first && starts_with_psc ? 0x04 : 0x00);  // P bit
    p.push_back(0x00);
    p.insert(p.end(), picture.begin() + static_cast<std::ptrdiff_t>(at), picture.begin() + static_cast<std::ptrdiff_t>(at + n));
    out.push_back(std::move(p));
    at += n;
    first = false;
  }
  return out;
}

bool depacketizer::push(bytes p) {
  if (p.size() < 2) return false;
  const bool begins = p[0] & 0x04, vrc = p[0] & 0x02;
  const unsigned plen = ((p[0] & 0x01) << 5) | (p[1] >> 3);
  if (vrc || p.size() < 2u + plen) return false;
  if (begins) picture_.insert(picture_.end(), {0, 0});
  picture_.insert(picture_.end(), p.begin() + 2 + plen, p.end());
  return true;
}

std::vector<std::uint8_t> depacketizer::take() { return std::exchange(picture_, {}); }

}  // namespace junction::media::h263
