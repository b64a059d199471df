#include "junction-load/rtmp_url.hpp"

#include <charconv>

namespace junction::load {

namespace {

std::optional<rtmp_url> fail(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

}  // namespace

std::optional<rtmp_url> rtmp_url::parse(std::string_view text, std::string* why) {
  constexpr std::string_view scheme = "rtmp://";
  if (!text.starts_with(scheme)) return fail(why, "the URL must start with rtmp:// (rtmps is not supported)");
  text.remove_prefix(scheme.size());
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return fail(why, "no /APP/STREAM after the host");
  std::string_view authority = text.substr(0, slash);
  std::string_view path = text.substr(slash + 1);

  rtmp_url url;
  std::optional<std::string_view> port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(why, "unterminated [IPv6] host");
    url.host = std::string{authority.substr(1, close - 1)};
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail(why, "junk after the [IPv6] host");
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != authority.rfind(':'))
      return fail(why, "an IPv6 host needs brackets: rtmp://[::1]:1935/app/stream");
    url.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return fail(why, "empty host");
  if (port_text) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
    if (ec != std::errc{} || end != port_text->data() + port_text->size() || port == 0 || port > 65535)
      return fail(why, "bad port '" + std::string{*port_text} + "'");
    url.port = static_cast<std::uint16_t>(port);
  }

  // The stream is the last segment (its query may hold slashes only after '?').
  const auto query = path.find('?');
  const auto last = path.substr(0, query).rfind('/');
  if (last == std::string_view::npos) return fail(why, "the path needs both APP and STREAM");
  url.app = std::string{path.substr(0, last)};
  url.stream = std::string{path.substr(last + 1)};
  if (url.app.empty()) return fail(why, "empty APP");
  if (url.stream.empty() || url.stream.starts_with('?')) return fail(why, "empty STREAM");
  return url;
}

std::string rtmp_url::tc_url() const {
  // Appends, not operator+ chains: GCC 12 warns falsely (-Wrestrict) on "[" + host.
  const bool v6 = host.find(':') != std::string::npos;
  std::string url = "rtmp://";
  if (v6) url += '[';
  url += host;
  if (v6) url += ']';
  if (port != 1935) url.append(":").append(std::to_string(port));
  url.append("/").append(app);
  return url;
}

std::string rtmp_url::to_string() const { return tc_url() + "/" + stream; }

std::vector<std::string> stream_names(std::string_view stream, unsigned publishers) {
  if (publishers <= 1) return {std::string{stream}};
  const auto q = stream.find('?');
  const std::string_view name = stream.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : stream.substr(q);
  std::vector<std::string> out;
  out.reserve(publishers);
  for (unsigned i = 0; i < publishers; ++i)
    out.push_back(std::string{name} + "-" + std::to_string(i) + std::string{query});
  return out;
}

}  // namespace junction::load
