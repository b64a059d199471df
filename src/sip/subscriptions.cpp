#include "sip/subscriptions.hpp"

#include "sip/request.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "sip/pidf.hpp"
#include "sip/registrar.hpp"
#include "sip/syntax.hpp"

namespace junction::sip {

std::optional<event_type> parse_event(std::string_view value) {
  value = trim(value);
  auto semi = value.find(';');
  std::string_view package = trim(value.substr(0, semi));
  if (!is_token(package)) return std::nullopt;
  event_type e;
  e.package.assign(package);
  std::transform(e.package.begin(), e.package.end(), e.package.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (semi != std::string_view::npos) {
    param_list params;
    if (!parse_params(value.substr(semi), params, 16)) return std::nullopt;
    e.id.assign(params.value("id"));
  }
  return e;
}

std::string_view state_name(subscription_state s) noexcept {
  switch (s) {
    case subscription_state::pending: return "pending";
    case subscription_state::active: return "active";
    case subscription_state::terminated: return "terminated";
  }
  return "terminated";
}

std::uint32_t subscription::seconds_left(sip_clock::time_point now) const noexcept {
  if (expires_at <= now) return 0;
  return static_cast<std::uint32_t>(std::chrono::ceil<std::chrono::seconds>(expires_at - now).count());
}

std::string subscription_table::dialog_key(std::string_view call_id, std::string_view local_tag,
                                           std::string_view remote_tag) const {
  return fmt::format("{}\n{}\n{}", call_id, local_tag, remote_tag);
}

subscribe_outcome subscription_table::subscribe(const message& request, std::string_view presentity,
                                                std::string_view watcher, std::string_view local_tag,
                                                std::uint64_t id, sip_clock::time_point now) {
  std::optional<std::uint32_t> asked;
  if (const header_field* e = request.find(header_id::expires)) {
    asked = delta_seconds(e->value);
    if (!asked) return {.status = 400, .reason = "Bad Expires"};
  }
  std::uint32_t expires = asked.value_or(limits_.default_expires);
  if (expires != 0 && expires < limits_.min_expires)
    return {.status = 423, .reason = {}, .expires = 0, .min_expires = limits_.min_expires};
  expires = std::min(expires, limits_.max_expires);
  auto event = parse_event(request.value(header_id::event));
  if (!event) return {.status = 400, .reason = "Bad Event"};

  if (const std::string_view to_tag = request.to().tag(); !to_tag.empty()) {
    // Inside a dialog: a refresh, or with Expires 0 an unsubscribe (RFC 6665 §4.1.2.2-3).
    auto it = by_dialog_.find(dialog_key(request.call_id(), to_tag, request.from().tag()));
    if (it == by_dialog_.end()) return {.status = 481, .reason = "Subscription Does Not Exist"};
    subscription& s = by_id_.at(it->second);
    if (event->package != s.event.package || event->id != s.event.id)
      return {.status = 481, .reason = "Subscription Does Not Exist (Other Event)"};
    if (request.cseq() <= s.remote_cseq) return {.status = 500, .reason = "CSeq Out Of Order"};
    s.remote_cseq = request.cseq();
    s.expires_at = now + std::chrono::seconds(expires);
    return {.status = 200, .reason = {}, .expires = expires, .sub = &s};
  }

  if (request.contacts().size() != 1 || request.contacts().front().star)
    return {.status = 400, .reason = "SUBSCRIBE Needs One Contact"};
  // The remote target becomes every NOTIFY's Request-URI, where URI headers are not allowed
  // (RFC 3261 §19.1.1): they are dropped.
  std::string_view target = request.contacts().front().uri_text;
  target = target.substr(0, target.find('?'));
  if (auto u = parse_uri(target); !u || !u->is_sip_family()) return {.status = 400, .reason = "Contact Is Not A SIP URI"};
  if (by_id_.size() >= limits_.max_subscriptions) return {.status = 503, .reason = "Too Many Subscriptions"};
  subscription s;
  s.id = id;
  s.presentity.assign(presentity);
  s.watcher.assign(watcher);
  s.event = std::move(*event);
  s.call_id.assign(request.call_id());
  s.local_tag.assign(local_tag);
  s.remote_tag.assign(request.from().tag());
  s.local_header = fmt::format("{};tag={}", request.value(header_id::to), local_tag);
  s.remote_header.assign(request.value(header_id::from));
  s.remote_target.assign(target);
  for (const auto& h : request.headers()) {
    if (h.id != header_id::record_route) continue;
    list_items items;
    if (!split_list(h.value, items, 32)) return {.status = 400, .reason = "Bad Record-Route"};
    for (auto item : items) s.route_set.emplace_back(item);
  }
  s.remote_cseq = request.cseq();
  s.expires_at = now + std::chrono::seconds(expires);
  auto key = dialog_key(s.call_id, s.local_tag, s.remote_tag);
  if (auto it = by_dialog_.find(key); it != by_dialog_.end()) {
    subscription& existing = by_id_.at(it->second);
    if (existing.remote_cseq == request.cseq())
      return {.status = 200, .reason = {}, .expires = existing.seconds_left(now), .sub = &existing,
              .created = false, .retransmission = true};
    return {.status = 482, .reason = "Loop Detected"};
  }
  auto [it, inserted] = by_id_.emplace(id, std::move(s));
  by_dialog_.emplace(std::move(key), id);
  by_presentity_.emplace(it->second.presentity, id);
  return {.status = 200, .reason = {}, .expires = expires, .sub = &it->second, .created = true};
}

subscription* subscription_table::find(std::uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

void subscription_table::remove(std::uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  const subscription& s = it->second;
  by_dialog_.erase(dialog_key(s.call_id, s.local_tag, s.remote_tag));
  auto [first, last] = by_presentity_.equal_range(s.presentity);
  for (auto p = first; p != last; ++p)
    if (p->second == id) {
      by_presentity_.erase(p);
      break;
    }
  by_id_.erase(it);
}

std::vector<std::uint64_t> subscription_table::watching(std::string_view presentity) const {
  std::vector<std::uint64_t> out;
  auto [first, last] = by_presentity_.equal_range(presentity);
  for (auto p = first; p != last; ++p) out.push_back(p->second);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint64_t> subscription_table::expired(sip_clock::time_point now) const {
  std::vector<std::uint64_t> out;
  for (const auto& [id, s] : by_id_)
    if (s.expires_at <= now) out.push_back(id);
  return out;
}

std::vector<std::uint64_t> subscription_table::all() const {
  std::vector<std::uint64_t> out;
  out.reserve(by_id_.size());
  for (const auto& entry : by_id_) out.push_back(entry.first);
  return out;
}

std::string make_notify(subscription& s, std::string_view via, std::string_view contact,
                        const notify_content& content) {
  request_spec r;
  r.method = "NOTIFY";
  r.request_uri = s.remote_target;
  r.routes = s.route_set;
  r.from = s.local_header;
  r.to = s.remote_header;
  r.call_id = s.call_id;
  r.cseq = ++s.local_cseq;
  r.contact = fmt::format("<{}>", contact);
  r.headers.emplace_back("Event", s.event.id.empty() ? s.event.package : fmt::format("{};id={}", s.event.package, s.event.id));
  if (content.state == subscription_state::terminated)
    r.headers.emplace_back("Subscription-State", content.reason.empty() ? std::string("terminated")
                                                                        : fmt::format("terminated;reason={}", content.reason));
  else
    r.headers.emplace_back("Subscription-State", fmt::format("{};expires={}", state_name(content.state), content.expires));
  if (!content.body.empty()) r.content_type = pidf_content_type;
  r.body = content.body;
  return make_request(r, via);
}

}  // namespace junction::sip
