#include "rtmp/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <string>
#include <utility>

namespace junction::rtmp {

namespace {

using detail::handshake_packet;
using detail::handshake_packet_size;

constexpr std::byte rtmp_version{3};
constexpr std::size_t digest_size = 32;  // SHA-256
using digest = std::array<std::byte, digest_size>;
// C2/S2 under the digest scheme: random bytes, then an HMAC over them.
constexpr std::size_t response_body_size = handshake_packet_size - digest_size;  // 1504

// What we put in the version field. Our C1 says Flash Player 9.0.124.2, the version ffmpeg
// claims. Our digest S1 says 13.14.10.13 (nginx-rtmp's value): ffmpeg only checks an S1 digest
// when its first version byte is >= 3, so it must not be small.
constexpr std::uint32_t client_version = 0x09007c02;
constexpr std::uint32_t server_version = 0x0d0e0a0d;

// The keys every Flash-compatible peer shares. C1 digests use the first 30 bytes of the player
// key, S1 digests the first 36 bytes of the server key (the ASCII parts); C2/S2 key their HMAC
// with the whole key. The 32-byte tail is the same in both.
constexpr std::array<unsigned char, 32> key_tail = {
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

template <std::size_t N>
constexpr auto make_key(const char (&text)[N]) {
  std::array<unsigned char, N - 1 + key_tail.size()> k{};
  for (std::size_t i = 0; i + 1 < N; ++i) k[i] = static_cast<unsigned char>(text[i]);
  for (std::size_t i = 0; i < key_tail.size(); ++i) k[N - 1 + i] = key_tail[i];
  return k;
}

constexpr auto fp_key = make_key("Genuine Adobe Flash Player 001");
constexpr auto fms_key = make_key("Genuine Adobe Flash Media Server 001");
static_assert(fp_key.size() == 30 + 32 && fms_key.size() == 36 + 32);
using key = std::span<const unsigned char>;
const key fp_public{fp_key.data(), 30}, fp_full{fp_key};
const key fms_public{fms_key.data(), 36}, fms_full{fms_key};

// A failed HMAC (only possible if OpenSSL is broken or misconfigured) leaves zeroes, which no
// peer's digest matches: the server then answers plainly and the client reports bad_digest.
digest hmac_sha256(key k, std::span<const std::byte> data) {
  digest out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &length);
  return out;
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Schema 1 ("digest first") keeps the digest block in bytes 8..771, schema 0 ("key first") in
// bytes 772..1535. The block starts with four bytes whose sum (mod 728) says where in the rest
// of the block the 32 digest bytes sit, so the position is itself random.
std::size_t digest_offset(const handshake_packet& p, int schema) {
  const std::size_t base = schema == 0 ? 772 : 8;
  unsigned sum = 0;
  for (std::size_t i = 0; i < 4; ++i) sum += std::to_integer<unsigned>(p[base + i]);
  return sum % 728 + base + 4;
}

// The HMAC of a C1/S1 covers the whole packet except the digest bytes themselves.
digest packet_digest(const handshake_packet& p, std::size_t at, key k) {
  std::array<std::byte, handshake_packet_size - digest_size> rest;
  auto tail = std::copy_n(p.begin(), at, rest.begin());
  std::copy(p.begin() + static_cast<std::ptrdiff_t>(at + digest_size), p.end(), tail);
  return hmac_sha256(k, rest);
}

std::span<const std::byte, digest_size> digest_at(const handshake_packet& p, std::size_t at) {
  return std::span<const std::byte>(p).subspan(at).first<digest_size>();
}

bool has_digest(const handshake_packet& p, int schema, key k) {
  const std::size_t at = digest_offset(p, schema);
  return same(packet_digest(p, at, k), digest_at(p, at));
}

std::size_t imprint_digest(handshake_packet& p, int schema, key k) {
  const std::size_t at = digest_offset(p, schema);
  const digest d = packet_digest(p, at, k);
  std::copy(d.begin(), d.end(), p.begin() + static_cast<std::ptrdiff_t>(at));
  return at;
}

// C2/S2: the HMAC key is itself HMAC(full key, the digest the peer put in its C1/S1), which
// proves we read the peer's packet.
digest response_digest(const handshake_packet& p, std::span<const std::byte> peer_digest,
                       key full) {
  const digest k = hmac_sha256(full, peer_digest);
  return hmac_sha256(key{reinterpret_cast<const unsigned char*>(k.data()), k.size()},
                     std::span<const std::byte>(p).first(response_body_size));
}

void sign_response(handshake_packet& p, std::span<const std::byte> peer_digest, key full) {
  const digest d = response_digest(p, peer_digest, full);
  std::copy(d.begin(), d.end(), p.begin() + response_body_size);
}

bool response_ok(const handshake_packet& p, std::span<const std::byte> peer_digest, key full) {
  return same(response_digest(p, peer_digest, full),
              std::span<const std::byte>(p).subspan(response_body_size));
}

void put_be32(handshake_packet& p, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) p[at + i] = std::byte(v >> (24 - 8 * i));
}

void fill_random(const handshake_options& o, std::span<std::byte> out) {
  if (o.fill_random) return o.fill_random(out);
  // RAND_bytes only fails when the OS has no entropy at all; the handshake's randomness guards
  // nothing secret (the keys are public), so the zeroes that would remain are harmless.
  std::fill(out.begin(), out.end(), std::byte{0});
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
}

// Version byte of C0/S0. RTMPE (6; 8 and 9 are its XTEA and Blowfish variants) gets its own
// error so the log says why a client was turned away.
std::error_code check_version(std::byte v) {
  if (v == rtmp_version) return {};
  if (v == std::byte{6} || v == std::byte{8} || v == std::byte{9})
    return handshake_errc::encrypted_not_supported;
  return handshake_errc::bad_version;
}

// A plain C2/S2 echoes the peer's time (bytes 0..3) and random bytes (8..1535); bytes 4..7 are
// "time2", when the packet was read, which peers fill differently (ffmpeg's server writes zero,
// nginx-rtmp echoes). Only the random bytes say the peer read our packet.
bool echoes(const handshake_packet& reply, const handshake_packet& ours) {
  return same(std::span<const std::byte>(reply).subspan(8),
              std::span<const std::byte>(ours).subspan(8));
}

void append(std::vector<std::byte>& out, const handshake_packet& p) {
  out.insert(out.end(), p.begin(), p.end());
}

class handshake_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtmp.handshake"; }
  std::string message(int ev) const override {
    switch (static_cast<handshake_errc>(ev)) {
      case handshake_errc::bad_version:
        return "unsupported RTMP version (C0/S0 must be 3)";
      case handshake_errc::encrypted_not_supported:
        return "encrypted RTMP (RTMPE) is not supported";
      case handshake_errc::bad_digest:
        return "server S1 digest does not validate";
      case handshake_errc::out_of_order:
        return "handshake fed before start()";
    }
    return "unknown RTMP handshake error";
  }
};

}  // namespace

const std::error_category& handshake_category() noexcept {
  static const handshake_category_impl category;
  return category;
}

std::error_code make_error_code(handshake_errc e) noexcept {
  return {static_cast<int>(e), handshake_category()};
}

bool detail::packet_collector::take(std::span<const std::byte> in, std::size_t& at) noexcept {
  const std::size_t n = std::min(bytes.size() - filled, in.size() - at);
  std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), n,
              bytes.begin() + static_cast<std::ptrdiff_t>(filled));
  filled += n;
  at += n;
  return filled == bytes.size();
}

// ---- server ----------------------------------------------------------------------------------

server_handshake::server_handshake(handshake_options options) : options_(std::move(options)) {}

handshake_step server_handshake::feed(std::span<const std::byte> in) {
  handshake_step step;
  std::size_t& at = step.consumed;
  for (;;) {
    switch (state_) {
      case state::c0:
        if (at == in.size()) return step;
        // Checked alone so a wrong protocol is refused without waiting for 1536 more bytes.
        if (auto ec = check_version(in[at++])) {
          error_ = ec;
          state_ = state::failed;
          break;
        }
        state_ = state::c1;
        break;
      case state::c1:
        if (!in_.take(in, at)) return step;
        answer_c1(step.output);
        in_.filled = 0;
        state_ = state::c2;
        break;
      case state::c2:
        if (!in_.take(in, at)) return step;
        c2_echo_ok_ = echoes(in_.bytes, s1_);
        if (!c2_echo_ok_ && schema_ >= 0)
          c2_echo_ok_ =
              response_ok(in_.bytes, digest_at(s1_, digest_offset(s1_, schema_)), fp_full);
        state_ = state::done;
        break;
      case state::done:
        step.done = true;
        return step;
      case state::failed:
        step.error = error_;
        return step;
    }
  }
}

void server_handshake::answer_c1(std::vector<std::byte>& out) {
  const handshake_packet& c1 = in_.bytes;
  // Try both layouts rather than trust the version field: a plain C1 simply fails both (a false
  // match would need an HMAC collision), and then gets the plain answer instead of an error.
  if (options_.digest) {
    for (int s : {1, 0}) {
      if (has_digest(c1, s, fp_public)) {
        schema_ = s;
        break;
      }
    }
  }

  put_be32(s1_, 0, options_.epoch);
  put_be32(s1_, 4, digest_used() ? server_version : 0);
  fill_random(options_, std::span<std::byte>(s1_).subspan(8));
  // Same schema as the client: librtmp and Flash look there first (ffmpeg tries both).
  if (digest_used()) imprint_digest(s1_, schema_, fms_public);

  handshake_packet s2;
  if (digest_used()) {
    fill_random(options_, std::span<std::byte>(s2).first(response_body_size));
    sign_response(s2, digest_at(c1, digest_offset(c1, schema_)), fms_full);
  } else {
    s2 = c1;  // plain: S2 echoes C1 (time and time2 included, as nginx-rtmp and SRS do)
  }

  out.reserve(1 + 2 * handshake_packet_size);
  out.push_back(rtmp_version);
  append(out, s1_);
  append(out, s2);
}

// ---- client ----------------------------------------------------------------------------------

client_handshake::client_handshake(handshake_options options) : options_(std::move(options)) {}

std::vector<std::byte> client_handshake::start() {
  if (state_ != state::not_started) return {};
  put_be32(c1_, 0, options_.epoch);
  put_be32(c1_, 4, options_.digest ? client_version : 0);
  fill_random(options_, std::span<std::byte>(c1_).subspan(8));
  if (options_.digest)
    c1_digest_at_ = static_cast<int>(imprint_digest(c1_, options_.schema == 0 ? 0 : 1, fp_public));
  state_ = state::s0;

  std::vector<std::byte> out;
  out.reserve(1 + handshake_packet_size);
  out.push_back(rtmp_version);
  append(out, c1_);
  return out;
}

handshake_step client_handshake::feed(std::span<const std::byte> in) {
  handshake_step step;
  std::size_t& at = step.consumed;
  for (;;) {
    switch (state_) {
      case state::not_started:
        error_ = handshake_errc::out_of_order;
        state_ = state::failed;
        break;
      case state::s0:
        if (at == in.size()) return step;
        if (auto ec = check_version(in[at++])) {
          error_ = ec;
          state_ = state::failed;
          break;
        }
        state_ = state::s1;
        break;
      case state::s1:
        if (!in_.take(in, at)) return step;
        answer_s1();
        if (state_ == state::failed) break;
        in_.filled = 0;
        state_ = state::s2;
        break;
      case state::s2: {
        if (!in_.take(in, at)) return step;
        s2_echo_ok_ = echoes(in_.bytes, c1_);
        if (!s2_echo_ok_ && c1_digest_at_ >= 0) {
          const auto at_c1 = static_cast<std::size_t>(c1_digest_at_);
          s2_echo_ok_ = response_ok(in_.bytes, digest_at(c1_, at_c1), fms_full);
        }
        // C2 leaves with `done`, as ffmpeg and librtmp send it: after the whole of S2.
        append(step.output, c2_);
        state_ = state::done;
        break;
      }
      case state::done:
        step.done = true;
        return step;
      case state::failed:
        step.error = error_;
        return step;
    }
  }
}

void client_handshake::answer_s1() {
  const handshake_packet& s1 = in_.bytes;
  // A server that does not speak the digest scheme sends a zero (or pre-FMS 3) version; answer
  // it plainly, as ffmpeg does. One that claims >= 3 must carry a valid digest.
  const bool claims_digest = std::to_integer<unsigned>(s1[4]) >= 3;
  if (c1_digest_at_ < 0 || !claims_digest) {
    c2_ = s1;
    return;
  }
  const int mine = options_.schema == 0 ? 0 : 1;
  for (int s : {mine, 1 - mine}) {
    if (has_digest(s1, s, fms_public)) {
      schema_ = s;
      break;
    }
  }
  if (!digest_used()) {
    error_ = handshake_errc::bad_digest;
    state_ = state::failed;
    return;
  }
  fill_random(options_, std::span<std::byte>(c2_).first(response_body_size));
  sign_response(c2_, digest_at(s1, digest_offset(s1, schema_)), fp_full);
}

}  // namespace junction::rtmp
