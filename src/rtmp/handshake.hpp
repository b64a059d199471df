#pragma once
// The RTMP handshake (C0/C1/C2 and S0/S1/S2, RTMP spec §5.2) as sans-IO state machines, for
// both ends of a connection. Nothing here reads a socket, a clock or an entropy source it is
// not given: the caller feeds received bytes and writes whatever a step returns.
//
// Two flavours interoperate on the wire:
// - plain: C1/S1 are a timestamp, four zero bytes and 1528 random bytes; C2/S2 echo the peer's
//   packet.
// - digest (Flash Player 9+, also sent by ffmpeg and librtmp): C1/S1 carry an HMAC-SHA256 over
//   the packet, keyed with the "Genuine Adobe Flash Player/Media Server 001" strings, at a
//   position chosen by one of two layouts ("schemas"); C2/S2 end with an HMAC of their first
//   1504 bytes keyed from the peer's digest. Flash refuses H.264 streams from a server that
//   cannot answer it, so a server must speak it.
// RTMPE (C0 = 6, 8 or 9) is refused: it is obsolete and its ciphers (RC4 and worse) are broken.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <system_error>
#include <type_traits>
#include <vector>

namespace junction::rtmp {

enum class handshake_errc {
  bad_version = 1,          // C0/S0 is neither 3 nor an RTMPE value
  encrypted_not_supported,  // C0/S0 is 6, 8 or 9: RTMPE
  bad_digest,               // client: S1 claims a digest (version >= 3), neither schema matches
  out_of_order,             // client: feed() before start()
};

const std::error_category& handshake_category() noexcept;
std::error_code make_error_code(handshake_errc e) noexcept;

struct handshake_options {
  // Our timestamp field in C1/S1 (milliseconds by convention; peers treat it as opaque).
  std::uint32_t epoch = 0;
  // Fills the random parts of C1/S1/C2/S2. Empty = OpenSSL RAND_bytes. Tests and the fuzzer
  // pass a deterministic source so outputs are reproducible.
  std::function<void(std::span<std::byte>)> fill_random;
  // Client: send a digest C1. Server: answer a digest C1 with digest S1/S2 (else always plain).
  bool digest = true;
  // Client only: where C1 puts its digest. 1 = "digest first" (offset field at byte 8), what
  // ffmpeg and librtmp send; 0 = "key first" (offset field at byte 772).
  int schema = 1;
};

struct handshake_step {
  std::size_t consumed = 0;       // bytes of the input used
  std::vector<std::byte> output;  // bytes to send now (may be empty)
  bool done = false;              // complete; input after `consumed` belongs to the chunk stream
  std::error_code error;          // sticky: every later feed() returns it again
};

namespace detail {
inline constexpr std::size_t handshake_packet_size = 1536;  // C1, C2, S1, S2
using handshake_packet = std::array<std::byte, handshake_packet_size>;

// Collects one packet from input that may arrive in pieces of any size.
struct packet_collector {
  handshake_packet bytes{};
  std::size_t filled = 0;
  // Takes what it still needs from `in` starting at `at`; advances `at`; true once full.
  bool take(std::span<const std::byte> in, std::size_t& at) noexcept;
};
}  // namespace detail

class server_handshake {
 public:
  explicit server_handshake(handshake_options options = {});

  // C0+C1 (1537 bytes, split anywhere) -> output S0+S1+S2; then C2 (1536 bytes) -> done.
  handshake_step feed(std::span<const std::byte> in);

  bool digest_used() const noexcept { return schema_ >= 0; }  // the client's C1 digest validated
  int schema() const noexcept { return schema_; }             // 0, 1, or -1 for plain
  // Diagnostics only, valid once done: C2 echoed S1's random bytes or carried a valid digest.
  // Clients vary (ffmpeg echoes S1 even after a digest C1; some send junk), so a mismatch never
  // fails the handshake.
  bool c2_echo_ok() const noexcept { return c2_echo_ok_; }

 private:
  enum class state : std::uint8_t { c0, c1, c2, done, failed };
  void answer_c1(std::vector<std::byte>& out);

  handshake_options options_;
  state state_ = state::c0;
  detail::packet_collector in_;  // C1, then C2
  detail::handshake_packet s1_{};
  int schema_ = -1;
  bool c2_echo_ok_ = false;
  std::error_code error_;
};

class client_handshake {
 public:
  explicit client_handshake(handshake_options options = {});

  // C0+C1, to send first. A second call returns nothing.
  std::vector<std::byte> start();
  // S0+S1+S2 (3073 bytes, split anywhere) -> output C2, done. Verifies S1's digest when the
  // server claims one (bad_digest if it fails); a plain S1 is answered plainly, as ffmpeg does.
  handshake_step feed(std::span<const std::byte> in);

  bool digest_used() const noexcept { return schema_ >= 0; }  // S1's digest validated
  int schema() const noexcept { return schema_; }             // schema S1's digest used, -1 plain
  // Diagnostics only, valid once done: S2 echoed C1's random bytes or carried a valid digest.
  bool s2_echo_ok() const noexcept { return s2_echo_ok_; }

 private:
  enum class state : std::uint8_t { not_started, s0, s1, s2, done, failed };
  void answer_s1();

  handshake_options options_;
  state state_ = state::not_started;
  detail::packet_collector in_;  // S1, then S2
  detail::handshake_packet c1_{};
  detail::handshake_packet c2_{};
  int c1_digest_at_ = -1;  // where C1's digest sits, -1 when C1 is plain
  int schema_ = -1;
  bool s2_echo_ok_ = false;
  std::error_code error_;
};

}  // namespace junction::rtmp

template <>
struct std::is_error_code_enum<junction::rtmp::handshake_errc> : std::true_type {};
