#include "sip/registrar.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "core/utc_time.hpp"
#include "sip/response.hpp"

namespace junction::sip {
namespace {

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
std::optional<int> q_value(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  int whole = text[0] - '0';
  if (text.size() == 1) return whole * 1000;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  int frac = 0, scale = 100;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    frac += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) return std::nullopt;
  return whole * 1000 + frac;
}

// The Contact params worth keeping for the binding: all but expires and q, which the registrar
// writes itself.
std::string kept_params(const param_list& params) {
  std::string out;
  for (const auto& p : params.items()) {
    if (iequals(p.name, "expires") || iequals(p.name, "q")) continue;
    out.append(";").append(p.name);
    if (p.has_value) out.append("=").append(p.value);
  }
  return out;
}

std::string error(const message& request, int status, std::string_view reason,
                  const register_context& ctx) {
  return make_response(request, status, {.reason = reason, .to_tag = ctx.to_tag});
}

}  // namespace

std::optional<std::string> canonical_aor(const uri& u) {
  if (!u.is_sip_family() || u.user.empty()) return std::nullopt;
  std::string host(u.host);
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return "sip:" + unescape(u.user) + "@" + host;
}

bool is_local_domain(std::string_view host, const std::vector<std::string>& domains) noexcept {
  return std::any_of(domains.begin(), domains.end(),
                     [host](const std::string& d) { return iequals(d, host); });
}

std::string handle_register(location_table& table, const message& request,
                            const std::vector<std::string>& domains, const register_context& ctx) {
  // Step 3: the AOR is To's URI, and must be one of ours.
  auto to_uri = parse_uri(request.to().uri_text);
  std::optional<std::string> aor = to_uri ? canonical_aor(*to_uri) : std::nullopt;
  if (!aor || !is_local_domain(to_uri->host, domains))
    return error(request, 404, "Not Found (Address-Of-Record Not Served Here)", ctx);

  std::optional<std::uint32_t> expires_header;
  if (const header_field* e = request.find(header_id::expires)) expires_header = delta_seconds(e->value);

  std::vector<contact_update> updates;
  bool star = false;
  for (const address& c : request.contacts()) {
    if (c.star) {
      star = true;
      continue;
    }
    contact_update u;
    u.uri = std::string(c.uri_text);
    u.params = kept_params(c.params);
    if (const param* e = c.params.find("expires")) {
      u.expires = delta_seconds(e->value);
      if (!u.expires) return error(request, 400, "Bad Contact expires", ctx);
    }
    if (const param* q = c.params.find("q")) {
      auto v = q_value(q->value);
      if (!v) return error(request, 400, "Bad Contact q-value", ctx);
      u.q_milli = *v;
    }
    updates.push_back(std::move(u));
  }
  if (star && !updates.empty()) return error(request, 400, "Contact * Must Be Alone", ctx);

  std::vector<std::string> path;
  for (const auto& h : request.headers())
    if (h.id == header_id::path) path.emplace_back(h.value);

  register_request r{*aor, updates, star, expires_header, request.call_id(), request.cseq(),
                     path, ctx.source, ctx.flow, ctx.wall_time};
  register_outcome outcome = table.apply(r, ctx.now);
  if (outcome.status == 423) {
    std::string min = std::to_string(outcome.min_expires);
    return make_response(request, 423, {.to_tag = ctx.to_tag, .headers = {{"Min-Expires", min}}});
  }
  if (outcome.status != 200) return error(request, outcome.status, outcome.reason, ctx);

  // Step 8: 200 with every current binding and how long it has left.
  std::string contacts;
  for (const binding* b : table.live(*aor, ctx.now)) {
    if (!contacts.empty()) contacts += ", ";
    contacts.append("<").append(b->contact).append(">").append(b->params).append(";expires=");
    contacts += std::to_string(b->seconds_left(ctx.now));
    if (b->q_milli != 1000) {
      char q[16];
      std::snprintf(q, sizeof q, "%d.%03d", b->q_milli / 1000, b->q_milli % 1000);
      contacts.append(";q=").append(q);
    }
  }
  const std::string& date = imf_date_cached(ctx.wall_time);
  std::string path_value;
  for (const auto& p : path) path_value += (path_value.empty() ? "" : ", ") + p;
  response_options options{.to_tag = ctx.to_tag};
  if (!contacts.empty()) options.headers.emplace_back("Contact", contacts);
  if (!path_value.empty()) options.headers.emplace_back("Path", path_value);  // RFC 3327 §5.3
  options.headers.emplace_back("Date", date);
  if (!ctx.server_header.empty()) options.headers.emplace_back("Server", ctx.server_header);
  return make_response(request, 200, options);
}

}  // namespace junction::sip
