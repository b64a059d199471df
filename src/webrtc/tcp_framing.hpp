#pragma once
// ICE-TCP's framing (RFC 6544 §3, RFC 4571 §2): on a TCP connection each STUN message, DTLS
// record datagram and SRTP packet is preceded by its length in two bytes, network order. Sans-IO:
// the deframer takes the stream in pieces of any size and hands on whole packets; the framer
// writes one packet with its length.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace junction::webrtc {

class tcp_deframer {
 public:
  // The most a connection may hold unfinished: one packet of the largest length, and its prefix.
  static constexpr std::size_t max_packet = 0xFFFF;

  // Takes the next bytes of the stream; calls on_packet(std::span<const std::uint8_t>) for each
  // whole packet, in order. Zero-length frames carry nothing and are skipped.
  template <class OnPacket>
  void feed(std::span<const std::uint8_t> bytes, OnPacket&& on_packet) {
    // Whole packets straight from the caller's buffer while nothing is left over.
    while (pending_.empty() && bytes.size() >= 2) {
      const std::size_t n = std::size_t{bytes[0]} << 8 | bytes[1];
      if (bytes.size() < 2 + n) break;
      if (n) on_packet(bytes.subspan(2, n));
      bytes = bytes.subspan(2 + n);
    }
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    while (pending_.size() >= 2) {
      const std::size_t n = std::size_t{pending_[0]} << 8 | pending_[1];
      if (pending_.size() < 2 + n) break;
      if (n) on_packet(std::span<const std::uint8_t>(pending_.data() + 2, n));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(2 + n));
    }
  }
  // Bytes of a packet not yet whole.
  std::size_t buffered() const noexcept { return pending_.size(); }

 private:
  std::vector<std::uint8_t> pending_;
};

// Appends `packet` with its length; false (and nothing appended) when it is longer than the two
// length bytes can say.
bool frame_for_tcp(std::span<const std::uint8_t> packet, std::vector<std::uint8_t>& out);

}  // namespace junction::webrtc
