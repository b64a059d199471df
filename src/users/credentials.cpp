#include "users/credentials.hpp"

#include <cstdio>

#include <vector>

#include "core/ascii.hpp"

namespace junction::users {
namespace {

class credentials_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "users.credentials"; }
  std::string message(int ev) const override {
    switch (static_cast<credentials_errc>(ev)) {
      case credentials_errc::not_digest: return "credentials use a scheme other than Digest";
      case credentials_errc::empty: return "credentials are empty";
      case credentials_errc::malformed: return "credentials are not Digest auth-param syntax";
      case credentials_errc::unclosed_quote: return "a quoted value in the credentials never ends";
      case credentials_errc::duplicate_param: return "a Digest parameter occurs twice";
      case credentials_errc::too_many_params:
        return "credentials carry more parameters than the limit (32 by default)";
      case credentials_errc::value_too_long:
        return "a Digest parameter is longer than the limit (1024 bytes by default)";
      case credentials_errc::missing_param:
        return "credentials lack username, realm, nonce, uri or response, or cnonce/nc with qop";
      case credentials_errc::bad_nonce_count: return "nc is not 8 hex digits";
    }
    return "unknown digest credentials error";
  }
};

// tchar (RFC 7230 §3.2.6); a superset of RFC 3261's token characters.
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

// Control characters other than HTAB may not appear in a quoted-string or a quoted-pair.
bool is_ctl(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}


// Walks the value once, left to right; `pos` never moves backwards, so the cost is linear in
// the input whatever it holds.
class param_reader {
 public:
  param_reader(std::string_view text, const credentials_limits& limits) noexcept
      : text_(text), limits_(limits) {}

  void skip_ws() noexcept {
    while (pos_ < text_.size() && is_ws(text_[pos_])) ++pos_;
  }
  bool at_end() const noexcept { return pos_ == text_.size(); }
  bool consume(char c) noexcept {
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  std::string_view token() noexcept {
    std::size_t start = pos_;
    while (pos_ < text_.size() && is_tchar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // token / quoted-string, unquoted into `out`.
  std::error_code value(std::string& out) {
    if (!consume('"')) {
      std::string_view t = token();
      if (t.empty()) return credentials_errc::malformed;
      if (t.size() > limits_.max_value) return credentials_errc::value_too_long;
      out.assign(t);
      return {};
    }
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return {};
      if (c == '\\') {
        if (pos_ == text_.size()) break;
        c = text_[pos_++];
      }
      if (is_ctl(c)) return credentials_errc::malformed;
      if (out.size() == limits_.max_value) return credentials_errc::value_too_long;
      out += c;
    }
    return credentials_errc::unclosed_quote;
  }

 private:
  std::string_view text_;
  const credentials_limits& limits_;
  std::size_t pos_ = 0;
};

// Where a known parameter's value goes; nullptr for parameters this code does not use.
std::string* slot(digest_credentials& c, std::string_view name) noexcept {
  struct entry {
    std::string_view name;
    std::string digest_credentials::*member;
  };
  static constexpr entry known[] = {
      {"username", &digest_credentials::username}, {"realm", &digest_credentials::realm},
      {"nonce", &digest_credentials::nonce},       {"uri", &digest_credentials::uri},
      {"response", &digest_credentials::response}, {"algorithm", &digest_credentials::algorithm},
      {"cnonce", &digest_credentials::cnonce},     {"opaque", &digest_credentials::opaque},
      {"qop", &digest_credentials::qop},           {"nc", &digest_credentials::nc},
  };
  for (const entry& e : known)
    if (iequals(e.name, name)) return &(c.*e.member);
  return nullptr;
}

std::error_code parse_params(param_reader& in, const credentials_limits& limits,
                             digest_credentials& out) {
  // Names seen so far, for the duplicate check; at most max_params of them.
  std::vector<std::string_view> seen;
  std::string unused;
  for (;;) {
    in.skip_ws();
    if (in.at_end()) return {};
    // An empty list element ("a=1, , b=2") is allowed and ignored (RFC 7230 §7).
    if (in.consume(',')) continue;
    std::string_view name = in.token();
    if (name.empty()) return credentials_errc::malformed;
    if (name.size() > limits.max_value) return credentials_errc::value_too_long;
    if (seen.size() == limits.max_params) return credentials_errc::too_many_params;
    for (std::string_view s : seen)
      if (iequals(s, name)) return credentials_errc::duplicate_param;
    seen.push_back(name);

    in.skip_ws();
    if (!in.consume('=')) return credentials_errc::malformed;
    in.skip_ws();
    std::string* target = slot(out, name);
    if (!target) {
      unused.clear();
      target = &unused;
    }
    if (auto ec = in.value(*target)) return ec;

    in.skip_ws();
    if (!in.at_end() && !in.consume(',')) return credentials_errc::malformed;
  }
}

std::error_code check_required(const digest_credentials& c) noexcept {
  // RFC 7616 §3.4: these five are always required (username* and userhash are not supported,
  // so username must be there). With qop, cnonce and nc must be there too.
  if (c.username.empty() || c.realm.empty() || c.nonce.empty() || c.uri.empty() ||
      c.response.empty())
    return credentials_errc::missing_param;
  if (!c.qop.empty() && (c.cnonce.empty() || c.nc.empty())) return credentials_errc::missing_param;
  if (!c.nc.empty()) {
    if (c.nc.size() != 8) return credentials_errc::bad_nonce_count;
    for (char ch : c.nc)
      if (!is_hex(ch)) return credentials_errc::bad_nonce_count;
  }
  return {};
}

// credentials / challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ] (RFC 7235 §2.1):
// reads the scheme, which must be Digest (case-insensitive), and the space after it.
std::error_code read_digest_scheme(param_reader& in) {
  if (in.at_end()) return credentials_errc::empty;
  std::string_view scheme = in.token();
  if (scheme.empty()) return credentials_errc::malformed;
  if (!iequals(scheme, "Digest")) return credentials_errc::not_digest;
  // "Digest,..." or "Digest=..." is not a scheme followed by parameters.
  if (!in.at_end() && !in.consume(' ') && !in.consume('\t')) return credentials_errc::malformed;
  return {};
}

// Appends a quoted-string holding `text`.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (is_ctl(c) || c == '\t') continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

const std::error_category& credentials_category() noexcept {
  static const credentials_category_impl category;
  return category;
}

std::error_code make_error_code(credentials_errc e) noexcept {
  return {static_cast<int>(e), credentials_category()};
}

credentials_result parse_credentials(std::string_view value, const credentials_limits& limits) {
  credentials_result result;
  param_reader in(value, limits);
  in.skip_ws();
  if (auto ec = read_digest_scheme(in)) {
    result.error = ec;
    return result;
  }
  std::error_code ec = parse_params(in, limits, result.credentials);
  if (!ec) ec = check_required(result.credentials);
  if (ec) {
    result.error = ec;
    result.credentials = {};
  }
  return result;
}

std::string make_challenge(const digest_challenge& challenge) {
  std::string out = "Digest realm=";
  append_quoted(out, challenge.realm);
  out += ", nonce=";
  append_quoted(out, challenge.nonce);
  out += ", algorithm=";
  out += algorithm_name(challenge.algorithm);
  out += ", qop=\"auth\"";
  if (challenge.stale) out += ", stale=true";
  if (!challenge.opaque.empty()) {
    out += ", opaque=";
    append_quoted(out, challenge.opaque);
  }
  return out;
}

challenge_result parse_challenge(std::string_view value, const credentials_limits& limits) {
  challenge_result result;
  param_reader in(value, limits);
  in.skip_ws();
  if (auto ec = read_digest_scheme(in)) {
    result.error = ec;
    return result;
  }
  // The same auth-param list as credentials; "stale" is read from the raw text afterwards,
  // since the credentials model has no slot for it.
  std::error_code ec = parse_params(in, limits, result.params);
  if (!ec && (result.params.realm.empty() || result.params.nonce.empty())) ec = credentials_errc::missing_param;
  if (ec) {
    result.error = ec;
    result.params = {};
    return result;
  }
  for (std::size_t at = 0; (at = value.find("stale", at)) != std::string_view::npos; at += 5) {
    auto rest = value.substr(at + 5);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '=' || rest.front() == '"'))
      rest.remove_prefix(1);
    if (rest.size() >= 4 && iequals(rest.substr(0, 4), "true")) result.stale = true;
  }
  return result;
}

std::string make_authorization(const digest_credentials& challenge, const authorization_request& request) {
  auto algorithm = parse_algorithm(challenge.algorithm);
  if (!algorithm) return {};
  // The server offers a list ("auth,auth-int"); auth is the one computed here.
  bool auth = false;
  for (std::size_t at = 0; at <= challenge.qop.size();) {
    auto comma = challenge.qop.find(',', at);
    if (comma == std::string::npos) comma = challenge.qop.size();
    std::string_view one = std::string_view{challenge.qop}.substr(at, comma - at);
    while (!one.empty() && is_ws(one.front())) one.remove_prefix(1);
    while (!one.empty() && is_ws(one.back())) one.remove_suffix(1);
    if (iequals(one, "auth")) auth = true;
    at = comma + 1;
  }
  if (!challenge.qop.empty() && !auth) return {};
  const auto qop = auth ? digest_qop::auth : digest_qop::none;
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", request.nonce_count);
  const std::string secret = ha1(*algorithm, request.username, challenge.realm, request.password);
  const std::string digest = response(*algorithm, secret, challenge.nonce, nc, request.cnonce, qop,
                                      request.method, request.uri);
  std::string out = "Digest username=";
  append_quoted(out, request.username);
  out += ", realm=";
  append_quoted(out, challenge.realm);
  out += ", nonce=";
  append_quoted(out, challenge.nonce);
  out += ", uri=";
  append_quoted(out, request.uri);
  out += ", response=";
  append_quoted(out, digest);
  out += ", algorithm=";
  out += algorithm_name(*algorithm);
  if (auth) {
    out += ", qop=auth, nc=";
    out += nc;
    out += ", cnonce=";
    append_quoted(out, request.cnonce);
  }
  if (!challenge.opaque.empty()) {
    out += ", opaque=";
    append_quoted(out, challenge.opaque);
  }
  return out;
}

}  // namespace junction::users
