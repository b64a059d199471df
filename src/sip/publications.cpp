#include "sip/publications.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace junction::sip {

std::string publication_store::fresh_etag() {
  // Unpredictable enough to be unique across restarts (the seed is random), short on the wire.
  next_etag_ = next_etag_ * 6364136223846793005ull + 1442695040888963407ull;
  return fmt::format("{:016x}", next_etag_);
}

publish_outcome publication_store::apply(const publish_request& request, sip_clock::time_point now) {
  std::uint32_t expires = request.expires.value_or(limits_.default_expires);
  if (expires != 0 && expires < limits_.min_expires)
    return {.status = 423, .reason = {}, .min_expires = limits_.min_expires};
  expires = std::min(expires, limits_.max_expires);
  auto& list = by_aor_[std::string(request.aor)];
  // Expired publications are gone even if the housekeeping has not run yet.
  std::erase_if(list, [&](const publication& p) {
    bool gone = p.expires_at <= now;
    count_ -= gone;
    return gone;
  });

  if (!request.if_match) {
    // An initial publication (RFC 3903 §6 step 5) carries state.
    if (request.body.empty()) {
      if (list.empty()) by_aor_.erase(std::string(request.aor));
      return {.status = 400, .reason = "Initial PUBLISH Without A Body"};
    }
    if (expires == 0) return {.status = 400, .reason = "Initial PUBLISH With Expires 0"};
    if (list.size() >= limits_.per_presentity) return {.status = 403, .reason = "Too Many Publications"};
    list.push_back({fresh_etag(), std::string(request.body), now + std::chrono::seconds(expires), ++version_});
    ++count_;
    return {.status = 200, .etag = list.back().etag, .expires = expires, .changed = true};
  }

  auto it = std::find_if(list.begin(), list.end(), [&](const publication& p) { return p.etag == *request.if_match; });
  if (it == list.end()) {
    if (list.empty()) by_aor_.erase(std::string(request.aor));
    return {.status = 412, .reason = {}};
  }
  if (expires == 0) {  // removal (step 6)
    list.erase(it);
    --count_;
    if (list.empty()) by_aor_.erase(std::string(request.aor));
    return {.status = 200, .etag = std::string(*request.if_match), .expires = 0, .changed = true};
  }
  // A refresh keeps the state; a modification replaces it. Either way a new entity-tag.
  bool modified = !request.body.empty();
  if (modified) {
    it->body = std::string(request.body);
    it->version = ++version_;
  }
  it->etag = fresh_etag();
  it->expires_at = now + std::chrono::seconds(expires);
  return {.status = 200, .etag = it->etag, .expires = expires, .changed = modified};
}

std::optional<std::string_view> publication_store::current(std::string_view aor, sip_clock::time_point now) const {
  auto it = by_aor_.find(aor);
  if (it == by_aor_.end()) return std::nullopt;
  const publication* newest = nullptr;
  for (const auto& p : it->second)
    if (p.expires_at > now && (!newest || p.version > newest->version)) newest = &p;
  if (!newest) return std::nullopt;
  return std::string_view(newest->body);
}

std::vector<std::string> publication_store::purge(sip_clock::time_point now) {
  std::vector<std::string> changed;
  for (auto it = by_aor_.begin(); it != by_aor_.end();) {
    std::size_t before = it->second.size();
    std::erase_if(it->second, [now](const publication& p) { return p.expires_at <= now; });
    count_ -= before - it->second.size();
    if (before != it->second.size()) changed.push_back(it->first);
    it = it->second.empty() ? by_aor_.erase(it) : std::next(it);
  }
  return changed;
}

}  // namespace junction::sip
