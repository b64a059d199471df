#include "xmpp/jid.hpp"

#include <cstdint>

namespace junction::xmpp {
namespace {

constexpr std::size_t max_part = 1023;

// The lead and continuation bytes' shape (expat has checked the code points of what came in
// XML; this guards parts that come from elsewhere).
bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    if (c < 0x80) extra = 0;
    else if (c >= 0xC2 && c <= 0xDF) extra = 1;
    else if ((c & 0xF0) == 0xE0) extra = 2;
    else if (c >= 0xF0 && c <= 0xF4) extra = 3;
    else return false;
    if (extra > s.size() - i - 1) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

bool has_control(std::string_view s) noexcept {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

std::string fold(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool valid_local(std::string_view s) noexcept {
  if (s.empty() || s.size() > max_part || has_control(s) || !valid_utf8(s)) return false;
  for (char c : s)
    if (c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@' || c == ' ')
      return false;
  return true;
}

bool valid_domain(std::string_view s) noexcept {
  if (s.empty() || s.size() > max_part || has_control(s) || !valid_utf8(s)) return false;
  if (s.back() == '.') s.remove_suffix(1);  // a trailing dot is dropped (RFC 7622 §3.2)
  if (s.empty()) return false;
  for (char c : s)
    if (c == ' ' || c == '@' || c == '/' || c == '"' || c == '<' || c == '>' || c == '\'' || c == '&') return false;
  return true;
}

}  // namespace

bool valid_resource(std::string_view s) noexcept {
  return !s.empty() && s.size() <= max_part && !has_control(s) && valid_utf8(s);
}

std::optional<jid> jid::make(std::string_view local, std::string_view domain, std::string_view resource) {
  if (!local.empty() && !valid_local(local)) return std::nullopt;
  if (!valid_domain(domain)) return std::nullopt;
  if (!resource.empty() && !valid_resource(resource)) return std::nullopt;
  jid j;
  j.local_ = fold(local);
  j.domain_ = fold(domain);
  if (!j.domain_.empty() && j.domain_.back() == '.') j.domain_.pop_back();
  j.resource_ = std::string(resource);
  return j;
}

std::optional<jid> jid::parse(std::string_view text) {
  // The resource is everything after the first '/'; the localpart ends at the first '@' before it.
  std::string_view resource;
  bool has_resource = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    resource = text.substr(slash + 1);
    text = text.substr(0, slash);
    has_resource = true;
    if (resource.empty()) return std::nullopt;
  }
  std::string_view local;
  if (auto at = text.find('@'); at != std::string_view::npos) {
    local = text.substr(0, at);
    text = text.substr(at + 1);
    if (local.empty()) return std::nullopt;
  }
  if (has_resource && !valid_resource(resource)) return std::nullopt;
  return make(local, text, resource);
}

jid jid::bare() const {
  jid j = *this;
  j.resource_.clear();
  return j;
}

jid jid::with_resource(std::string_view resource) const {
  jid j = *this;
  j.resource_ = std::string(resource);
  return j;
}

std::string jid::bare_str() const { return local_.empty() ? domain_ : local_ + "@" + domain_; }

std::string jid::str() const { return resource_.empty() ? bare_str() : bare_str() + "/" + resource_; }

bool is_blocked(const std::set<std::string>& blocked, const jid& who) {
  if (blocked.empty() || who.empty()) return false;
  if (blocked.count(who.str()) || blocked.count(who.bare_str()) || blocked.count(who.domain())) return true;
  return who.local().empty() && !who.is_bare() && blocked.count(who.domain() + "/" + who.resource());
}

}  // namespace junction::xmpp
