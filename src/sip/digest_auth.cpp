#include "sip/digest_auth.hpp"

#include <algorithm>

#include "core/ascii.hpp"

#include "users/credentials.hpp"
#include "users/digest.hpp"
#include "users/nonce.hpp"

namespace junction::sip {
namespace {

using users::digest_algorithm;

bool md5_only(const message& request, const auth_settings& settings) {
  const header_field* agent = request.find(header_id::user_agent);
  if (!agent || settings.md5_only_agents.empty()) return false;
  for (const auto& needle : settings.md5_only_agents)
    if (!needle.empty() && icontains(agent->value, needle))
      return std::find(settings.algorithms.begin(), settings.algorithms.end(), digest_algorithm::md5) !=
             settings.algorithms.end();
  return false;
}

std::vector<std::string> challenges(const message& request, std::string_view realm,
                                    const auth_settings& settings, std::chrono::sys_seconds now, bool stale) {
  std::string nonce = users::make_nonce(settings.nonce_secret, realm, now);
  std::vector<std::string> out;
  if (md5_only(request, settings)) {
    out.push_back(users::make_challenge({.realm = realm, .nonce = nonce, .algorithm = digest_algorithm::md5,
                                         .stale = stale}));
    return out;
  }
  for (auto algorithm : settings.algorithms)
    out.push_back(users::make_challenge({.realm = realm, .nonce = nonce, .algorithm = algorithm,
                                         .stale = stale}));
  return out;
}

auth_verdict challenge(const message& request, std::string_view realm, const auth_settings& settings,
                       std::chrono::sys_seconds now, std::string_view why, bool stale = false,
                       std::string username = {}) {
  return {auth_verdict::kind::challenge, challenges(request, realm, settings, now, stale), why,
          std::move(username)};
}

}  // namespace

auth_verdict authenticate(const message& request, std::string_view realm,
                          std::string_view expected_user, const user_lookup& lookup,
                          const auth_settings& settings, std::chrono::sys_seconds now,
                          header_id credentials) {
  // A client may answer several challenges at once; the one for our realm is ours.
  const header_field* ours = nullptr;
  users::digest_credentials creds;
  for (const auto& h : request.headers()) {
    if (h.id != credentials) continue;
    auto parsed = users::parse_credentials(h.value);
    if (parsed.error == users::credentials_errc::not_digest) continue;  // RFC 4475 §3.3.8
    if (!parsed.ok()) return {auth_verdict::kind::bad_request, {}, "Malformed Authorization", {}};
    if (parsed.credentials.realm != realm) continue;
    ours = &h;
    creds = std::move(parsed.credentials);
    break;
  }
  if (!ours) return challenge(request, realm, settings, now, "no credentials for this realm");

  auto algorithm = users::parse_algorithm(creds.algorithm);
  auto qop = users::parse_qop(creds.qop);
  if (!algorithm || !qop ||
      std::find(settings.algorithms.begin(), settings.algorithms.end(), *algorithm) == settings.algorithms.end())
    return challenge(request, realm, settings, now, "algorithm or qop not offered", false, creds.username);
  // The digest covers the Request-URI it names; it must be this request's (RFC 3261 §22.4).
  if (creds.uri != request.request_uri_text())
    return {auth_verdict::kind::bad_request, {}, "Authorization For Another Request-URI", creds.username};

  auto nonce = users::check_nonce(settings.nonce_secret, realm, creds.nonce, now, settings.nonce_lifetime);
  if (nonce == users::nonce_status::bad) return challenge(request, realm, settings, now, "unknown nonce", false, creds.username);

  auto user = lookup(creds.username, realm);
  if (!user) return challenge(request, realm, settings, now, "unknown user", false, creds.username);
  const std::string& ha1 = *algorithm == digest_algorithm::sha256 ? user->ha1_sha256 : user->ha1_md5;
  std::string expected = users::response(*algorithm, ha1, creds.nonce, creds.nc, creds.cnonce, *qop,
                                         request.method(), creds.uri);
  if (!users::hex_equal_constant_time(expected, creds.response))
    return challenge(request, realm, settings, now, "wrong password", false, creds.username);
  // Right answer to an old nonce: ask again without troubling the user (RFC 7616 §3.3).
  if (nonce == users::nonce_status::stale) return challenge(request, realm, settings, now, "stale nonce", true, creds.username);
  if (creds.username != expected_user)
    return {auth_verdict::kind::forbidden, {}, "Not Allowed For This Address-Of-Record", creds.username};
  return {auth_verdict::kind::authenticated, {}, "authenticated", creds.username, *algorithm};
}

}  // namespace junction::sip
