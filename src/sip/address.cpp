#include "sip/address.hpp"

namespace junction::sip {
namespace {

bool looks_like_uri(std::string_view text) noexcept { return parse_uri(text).has_value(); }

}  // namespace

std::optional<address> parse_address(std::string_view element, bool allow_star) noexcept {
  address a;
  a.text = element;
  std::string_view s = trim(element);
  if (s.empty()) return std::nullopt;
  if (allow_star && s == "*") {
    a.star = true;
    return a;
  }

  std::string_view after;
  std::size_t lt = std::string_view::npos;
  if (s.front() == '"') {
    auto q = quoted_string_length(s);
    if (!q) return std::nullopt;
    a.display = s.substr(0, *q);
    std::string_view rest = trim_left(s.substr(*q));
    if (rest.empty() || rest.front() != '<') return std::nullopt;
    lt = s.size() - rest.size();
  } else {
    // A display name of tokens ("caller<sip:...>", "token1~` token2 <sip:...>"), or no '<'
    // before the URI at all: then this is an addr-spec.
    std::size_t i = 0;
    while (i < s.size() && (is_token_char(s[i]) || is_wsp(s[i]))) ++i;
    if (i < s.size() && s[i] == '<') {
      lt = i;
      a.display = trim(s.substr(0, i));
    }
  }

  if (lt != std::string_view::npos) {
    std::size_t gt = s.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    a.uri_text = s.substr(lt + 1, gt - lt - 1);
    a.bracketed = true;
    after = s.substr(gt + 1);
  } else {
    // addr-spec: header parameters start at the first ';' (RFC 3261 §20: a URI with ';', '?'
    // or ',' must be bracketed for exactly this reason).
    std::size_t semi = s.find(';');
    a.uri_text = trim(s.substr(0, semi));
    if (a.uri_text.find('?') != std::string_view::npos || a.uri_text.find(',') != std::string_view::npos)
      return std::nullopt;
    after = semi == std::string_view::npos ? std::string_view{} : s.substr(semi);
  }
  if (!looks_like_uri(a.uri_text)) return std::nullopt;
  if (!parse_params(after, a.params, 32)) return std::nullopt;
  return a;
}

}  // namespace junction::sip
