#pragma once
// H.263-1998/2000 over RTP (RFC 4629): each packet carries a two-byte payload header; a packet
// that starts a picture or GOB sets P and leaves out the start code's two zero bytes, which the
// receiver puts back. No VRC, no extra picture header (V = 0, PLEN = 0). Pure.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace junction::media::h263 {

using bytes = std::span<const std::uint8_t>;

// One coded picture (starting with its picture start code) as RTP payloads of at most `mtu`
// bytes each; the caller sets the marker on the last.
std::vector<std::vector<std::uint8_t>> packetize(bytes picture, std::size_t mtu);

// Reassembles payloads of one picture (in order) into the coded picture; nothing when a payload
// is malformed (too short, VRC or extra picture header this receiver does not take).
class depacketizer {
 public:
  bool push(bytes payload);
  // The picture so far, and a fresh start.
  std::vector<std::uint8_t> take();

 private:
  std::vector<std::uint8_t> picture_;
};

}  // namespace junction::media::h263
