#include "webrtc/ice_lite.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <random>

namespace junction::webrtc {
namespace {

std::string random_ice_chars(std::size_t n) {
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> random(n);
  if (RAND_bytes(random.data(), static_cast<int>(n)) != 1) {
    std::random_device device;  // OpenSSL's generator failed: the kernel's
    for (auto& b : random) b = static_cast<unsigned char>(device());
  }
  std::string out(n, 'A');
  for (std::size_t i = 0; i < n; ++i) out[i] = alphabet[random[i] % alphabet.size()];
  return out;
}

constexpr std::size_t max_proven = 8;

}  // namespace

ice_credentials new_ice_credentials() { return {random_ice_chars(8), random_ice_chars(24)}; }

ice_lite_agent::ice_lite_agent(ice_credentials local, std::string remote_ufrag, clock::time_point now)
    : local_(std::move(local)), remote_ufrag_(std::move(remote_ufrag)), last_valid_(now) {}

bool ice_lite_agent::proven(const endpoint& from) const noexcept {
  return std::find(proven_.begin(), proven_.end(), from) != proven_.end();
}

std::vector<std::uint8_t> ice_lite_agent::error_reply(const stun::message_view& check, int code,
                                                      std::string_view reason, bool with_integrity,
                                                      std::span<const std::uint16_t> unknown) {
  stun::message_writer w(stun::binding, stun::message_class::error, check.id());
  w.add_error(code, reason);
  if (!unknown.empty()) w.add_unknown_attributes(unknown);
  // An error to a request that was not authenticated carries no integrity (RFC 8489 §9.1.3):
  // the peer could not check it against anything it trusts.
  return w.finish(with_integrity ? std::optional<std::string_view>(local_.pwd) : std::nullopt, true);
}

ice_lite_agent::result ice_lite_agent::on_stun(const stun::message_view& check, const endpoint& from,
                                               clock::time_point now) {
  result r;
  if (check.method() != stun::binding || check.kind() != stun::message_class::request) return r;
  // A FINGERPRINT that does not match is a corrupt datagram or not STUN at all: silence.
  if (check.has_fingerprint() && !check.fingerprint_ok()) return r;
  r.what = outcome::refused;
  if (auto unknown = check.unknown_required(); !unknown.empty()) {
    ++stats_.bad_requests;
    r.reply = error_reply(check, 420, "Unknown Attribute", false, unknown);
    return r;
  }
  auto username = check.username();
  if (!username || !check.has_integrity()) {
    ++stats_.bad_requests;
    r.reply = error_reply(check, 400, "Bad Request", false);
    return r;
  }
  // USERNAME is "<our ufrag>:<the peer's ufrag>" (RFC 8445 §7.2.2).
  const bool ours = username->size() > local_.ufrag.size() && username->starts_with(local_.ufrag) &&
                    (*username)[local_.ufrag.size()] == ':' &&
                    (remote_ufrag_.empty() || username->substr(local_.ufrag.size() + 1) == remote_ufrag_);
  if (!ours || !check.integrity_ok(local_.pwd)) {
    ++stats_.unauthorized;
    r.reply = error_reply(check, 401, "Unauthorized", false);
    return r;
  }
  // A lite agent is always controlled (RFC 8445 §6.1.1): a peer that says it is controlled too
  // is told of the conflict, and takes the controlling role (§7.3.1.1).
  if (check.has(stun::attr::ice_controlled)) {
    ++stats_.role_conflicts;
    r.reply = error_reply(check, 487, "Role Conflict", true);
    return r;
  }

  r.what = outcome::answered;
  ++stats_.answered;
  last_valid_ = now;
  if (!proven(from)) {
    if (proven_.size() == max_proven) proven_.erase(proven_.begin());
    proven_.push_back(from);
  }
  // The controlling peer nominates with USE-CANDIDATE (§8.1.1); of several nominated pairs the
  // one of the highest priority is used.
  if (check.has(stun::attr::use_candidate)) {
    const std::uint32_t priority = check.priority().value_or(0);
    if (!selected_ || *selected_ == from || priority >= selected_priority_) {
      r.nominated = !selected_ || *selected_ != from;
      selected_ = from;
      selected_priority_ = priority;
    }
  }
  r.reply = stun::message_writer(stun::binding, stun::message_class::success, check.id())
                .add_xor_mapped_address(from)
                .finish(local_.pwd, true);
  return r;
}

}  // namespace junction::webrtc
