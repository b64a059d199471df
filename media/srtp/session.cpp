#include "media/srtp/session.hpp"

#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

#include "media/sdp/base64.hpp"

namespace junction::media::srtp {
namespace {

void initialize_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (srtp_init() != srtp_err_status_ok) throw std::runtime_error("libsrtp2 did not initialize");
  });
}

status from(srtp_err_status_t e) noexcept {
  switch (e) {
    case srtp_err_status_ok: return status::ok;
    case srtp_err_status_auth_fail: return status::auth_failed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return status::replayed;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err: return status::malformed;
    default: return status::failed;
  }
}

}  // namespace

std::optional<suite> parse_suite(std::string_view name) noexcept {
  if (name == "AES_CM_128_HMAC_SHA1_80") return suite::aes_cm_128_hmac_sha1_80;
  if (name == "AES_CM_128_HMAC_SHA1_32") return suite::aes_cm_128_hmac_sha1_32;
  if (name == "AEAD_AES_128_GCM") return suite::aead_aes_128_gcm;
  return std::nullopt;
}

std::string_view suite_name(suite s) noexcept {
  switch (s) {
    case suite::aes_cm_128_hmac_sha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case suite::aes_cm_128_hmac_sha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case suite::aead_aes_128_gcm: return "AEAD_AES_128_GCM";
  }
  return "";
}

std::size_t master_length(suite s) noexcept { return s == suite::aead_aes_128_gcm ? 28 : 30; }

std::optional<std::vector<std::uint8_t>> parse_inline_key(std::string_view params, suite s) {
  if (!params.starts_with("inline:")) return std::nullopt;
  params.remove_prefix(7);
  auto bar = params.find('|');
  std::string_view key = params.substr(0, bar);
  if (bar != std::string_view::npos) {
    std::string_view rest = params.substr(bar + 1);
    // A lifetime ("2^20" or digits) may come first; an MKI ("1:4") is refused.
    if (rest.find(':') != std::string_view::npos) return std::nullopt;
  }
  auto out = sdp::base64_decode(key, 128);
  if (!out) return std::nullopt;
  if (out->size() != master_length(s)) return std::nullopt;
  return out;
}

std::string make_inline_key(std::span<const std::uint8_t> master) { return "inline:" + sdp::base64_encode(master); }

std::vector<std::uint8_t> random_master(suite s) {
  std::vector<std::uint8_t> out(master_length(s));
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string_view describe(status s) noexcept {
  switch (s) {
    case status::ok: return "ok";
    case status::auth_failed: return "authentication failed";
    case status::replayed: return "replayed or too old";
    case status::malformed: return "malformed";
    case status::failed: return "failed";
  }
  return "failed";
}

struct session::impl {
  srtp_t ctx = nullptr;
  ~impl() {
    if (ctx) srtp_dealloc(ctx);
  }
  // libsrtp writes the tag after the packet: room first, then the real length.
  template <class F>
  status apply(std::vector<std::uint8_t>& packet, std::size_t room, F f) {
    if (packet.size() < 8 || packet.size() > 65536) return status::malformed;
    int len = static_cast<int>(packet.size());
    packet.resize(packet.size() + room);
    srtp_err_status_t e = f(packet.data(), &len);
    packet.resize(e == srtp_err_status_ok ? static_cast<std::size_t>(len) : packet.size() - room);
    return from(e);
  }
};

session::session(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
session::~session() = default;

std::unique_ptr<session> session::create(suite s, std::span<const std::uint8_t> master, direction d) {
  initialize_once();
  if (master.size() != master_length(s)) return nullptr;
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  switch (s) {
    case suite::aes_cm_128_hmac_sha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case suite::aes_cm_128_hmac_sha1_32:
      // RFC 4568 §6.2: the 32-bit tag is for SRTP only; SRTCP keeps the 80-bit one.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      break;
    case suite::aead_aes_128_gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      break;
  }
  policy.ssrc.type = d == direction::outbound ? ssrc_any_outbound : ssrc_any_inbound;
  std::vector<std::uint8_t> key(master.begin(), master.end());
  policy.key = key.data();
  policy.window_size = 1024;  // room for reordering on a busy video stream
  policy.allow_repeat_tx = 0;
  auto i = std::make_unique<impl>();
  if (srtp_create(&i->ctx, &policy) != srtp_err_status_ok) return nullptr;
  return std::unique_ptr<session>(new session(std::move(i)));
}

status session::protect_rtp(std::vector<std::uint8_t>& packet) {
  return impl_->apply(packet, SRTP_MAX_TRAILER_LEN, [this](std::uint8_t* p, int* len) { return srtp_protect(impl_->ctx, p, len); });
}

status session::unprotect_rtp(std::vector<std::uint8_t>& packet) {
  return impl_->apply(packet, 0, [this](std::uint8_t* p, int* len) { return srtp_unprotect(impl_->ctx, p, len); });
}

status session::protect_rtcp(std::vector<std::uint8_t>& packet) {
  return impl_->apply(packet, SRTP_MAX_TRAILER_LEN + 4,
                      [this](std::uint8_t* p, int* len) { return srtp_protect_rtcp(impl_->ctx, p, len); });
}

status session::unprotect_rtcp(std::vector<std::uint8_t>& packet) {
  return impl_->apply(packet, 0, [this](std::uint8_t* p, int* len) { return srtp_unprotect_rtcp(impl_->ctx, p, len); });
}

}  // namespace junction::media::srtp
