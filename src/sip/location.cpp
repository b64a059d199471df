#include "sip/location.hpp"

#include <algorithm>

#include "sip/uri.hpp"

namespace junction::sip {
namespace {

// Contacts are the same binding when their URIs are equal by RFC 3261 §19.1.4; URIs that do
// not parse (they were checked on the way in, so only odd schemes) compare as text.
bool same_contact(std::string_view a, std::string_view b) {
  auto ua = parse_uri(a);
  auto ub = parse_uri(b);
  if (ua && ub) return uri_equal(*ua, *ub);
  return a == b;
}

}  // namespace

std::uint32_t binding::seconds_left(sip_clock::time_point now) const noexcept {
  if (expires_at <= now) return 0;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(expires_at - now).count();
  return static_cast<std::uint32_t>(std::max<long long>(left, 1));
}

register_outcome location_table::apply(const register_request& r, sip_clock::time_point now) {
  auto count = [this](std::string_view aor) -> std::size_t {
    auto it = aors_.find(aor);
    return it == aors_.end() ? 0 : it->second.size();
  };
  std::size_t before = count(r.aor);
  register_outcome outcome = apply_to(r, now);
  bindings_ = bindings_ - before + count(r.aor);
  return outcome;
}

register_outcome location_table::apply_to(const register_request& r, sip_clock::time_point now) {
  auto found = aors_.find(r.aor);
  auto* list = found == aors_.end() ? nullptr : &found->second;
  if (list) std::erase_if(*list, [now](const binding& b) { return b.expires_at <= now; });

  // A Contact of "*" removes everything, and only with Expires: 0 (§10.2.2); a retransmitted or
  // reordered one from the same Call-ID with an older CSeq changes nothing.
  if (r.remove_all) {
    if (!r.contacts.empty() || r.expires_header != 0u)
      return {400, "Contact * Needs Expires: 0 And No Other Contact"};
    if (list) {
      for (const auto& b : *list)
        if (b.call_id == r.call_id && r.cseq <= b.cseq) return {500, "Out Of Order Request"};
      aors_.erase(found);
    }
    return {};
  }

  // Step 7, checked for every contact before anything changes.
  std::vector<std::uint32_t> expiry;
  expiry.reserve(r.contacts.size());
  for (const auto& c : r.contacts) {
    std::uint32_t e = c.expires.value_or(r.expires_header.value_or(policy_.default_seconds));
    if (e != 0 && e < policy_.min_seconds) return {423, "Interval Too Brief", policy_.min_seconds};
    expiry.push_back(std::min(e, policy_.max_seconds));
    if (list)
      for (const auto& b : *list)
        if (same_contact(b.contact, c.uri) && b.call_id == r.call_id && r.cseq <= b.cseq)
          return {500, "Out Of Order Request"};
  }

  // The cap, counted as the request would leave the AOR (a refresh or a removal never fails).
  std::size_t after = list ? list->size() : 0;
  for (std::size_t i = 0; i < r.contacts.size(); ++i) {
    const bool known = list && std::any_of(list->begin(), list->end(), [&](const binding& b) {
      return same_contact(b.contact, r.contacts[i].uri);
    });
    if (expiry[i] != 0 && !known) ++after;
    if (expiry[i] == 0 && known) --after;
  }
  if (after > policy_.max_bindings && after > (list ? list->size() : 0)) {
    ++refused_;
    return {503, "Too Many Registered Contacts"};
  }

  for (std::size_t i = 0; i < r.contacts.size(); ++i) {
    const auto& c = r.contacts[i];
    if (!list && expiry[i] != 0) list = &aors_[std::string(r.aor)];
    if (!list) continue;
    auto same = std::find_if(list->begin(), list->end(),
                             [&](const binding& b) { return same_contact(b.contact, c.uri); });
    if (expiry[i] == 0) {
      if (same != list->end()) list->erase(same);
      continue;
    }
    binding b;
    b.contact = c.uri;
    b.params = c.params;
    b.q_milli = c.q_milli;
    b.expires_at = now + std::chrono::seconds(expiry[i]);
    b.call_id = std::string(r.call_id);
    b.cseq = r.cseq;
    b.path.assign(r.path.begin(), r.path.end());
    b.source = std::string(r.source);
    b.flow = r.flow;
    b.registered_at = r.wall_time;
    if (same != list->end()) *same = std::move(b);
    else list->push_back(std::move(b));
  }
  if (list && list->empty()) aors_.erase(std::string(r.aor));
  return {};
}

std::vector<const binding*> location_table::live(std::string_view aor, sip_clock::time_point now) const {
  std::vector<const binding*> out;
  auto found = aors_.find(aor);
  if (found == aors_.end()) return out;
  out.reserve(found->second.size());
  // Highest q first, registration order among equals: an insertion sort, stable and without the
  // buffer std::stable_sort asks for (an AOR has at most max_bindings).
  for (const auto& b : found->second) {
    if (b.expires_at <= now) continue;
    auto at = out.end();
    while (at != out.begin() && (*(at - 1))->q_milli < b.q_milli) --at;
    out.insert(at, &b);
  }
  return out;
}

bool location_table::has_live(std::string_view aor, sip_clock::time_point now) const {
  auto found = aors_.find(aor);
  return found != aors_.end() &&
         std::any_of(found->second.begin(), found->second.end(), [now](const binding& b) { return b.expires_at > now; });
}

std::vector<binding> location_table::lookup(std::string_view aor, sip_clock::time_point now) const {
  std::vector<binding> out;
  for (const binding* b : live(aor, now)) out.push_back(*b);
  return out;
}

std::size_t location_table::forget_flow(std::uint64_t flow) {
  std::size_t gone = 0;
  for (auto it = aors_.begin(); it != aors_.end();) {
    gone += std::erase_if(it->second, [flow](const binding& b) { return b.flow == flow; });
    it = it->second.empty() ? aors_.erase(it) : std::next(it);
  }
  bindings_ -= gone;
  return gone;
}

std::size_t location_table::purge(sip_clock::time_point now) {
  std::size_t gone = 0;
  for (auto it = aors_.begin(); it != aors_.end();) {
    gone += std::erase_if(it->second, [now](const binding& b) { return b.expires_at <= now; });
    it = it->second.empty() ? aors_.erase(it) : std::next(it);
  }
  bindings_ -= gone;
  return gone;
}

}  // namespace junction::sip
