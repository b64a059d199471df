#include "gateway/client_requests.hpp"

#include <charconv>

namespace junction::gateway {
namespace {

class request_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gateway.request"; }
  std::string message(int ev) const override {
    switch (static_cast<request_errc>(ev)) {
      case request_errc::no_address: return "connect to rtmp://host/<app>/<user>@<domain>";
      case request_errc::bad_port: return "bad port in the SIP domain";
    }
    return "unknown gateway request error";
  }
};

}  // namespace

const std::error_category& request_category() noexcept {
  static const request_category_impl category;
  return category;
}

std::error_code make_error_code(request_errc e) noexcept { return {static_cast<int>(e), request_category()}; }

std::error_code parse_line_address(std::string_view app_path, line_address& out) {
  const auto slash = app_path.find('/');
  const std::string_view address = slash == std::string_view::npos ? std::string_view{} : app_path.substr(slash + 1);
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() || address.find('/') != std::string_view::npos)
    return request_errc::no_address;
  out.user = address.substr(0, at);
  out.domain = address.substr(at + 1);
  out.server_port = "5060";
  // "domain:port" names the domain's SIP server port (as a SIP URI may); the address of record
  // is user@domain.
  if (auto colon = out.domain.rfind(':'); colon != std::string::npos && out.domain.find(']') == std::string::npos) {
    out.server_port = out.domain.substr(colon + 1);
    out.domain.resize(colon);
    if (out.server_port.empty() || out.server_port.find_first_not_of("0123456789") != std::string::npos ||
        out.server_port.size() > 5)
      return request_errc::bad_port;
  }
  return {};
}

std::optional<client_call> read_client_call(std::string_view name, std::span<const media::amf::value> args) {
  using kind = client_call::kind;
  auto text = [&](std::size_t i) {
    return i < args.size() && args[i].type == media::amf::type::string ? args[i].text : std::string{};
  };
  auto strings_from = [&](std::size_t from) {
    std::vector<std::string> out;
    for (std::size_t i = from; i < args.size(); ++i)
      if (args[i].type == media::amf::type::string) out.push_back(args[i].text);
    return out;
  };
  client_call c;
  if (name == "invite") c = {kind::invite, text(0), strings_from(1)};
  else if (name == "accept") c = {kind::accept, {}, strings_from(0)};
  else if (name == "reject") c = {kind::reject, text(0), {}};
  else if (name == "hold") c.what = kind::hold, c.on = args.empty() || args[0].boolean_or(true);
  else if (name == "bye") c.what = kind::bye;
  else if (name == "sendDTMF") c = {kind::dtmf, text(0), {}};
  else return std::nullopt;
  return c;
}

std::pair<int, std::string> parse_rejection(std::string_view text) {
  int status = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec == std::errc{} && status >= 300 && status <= 699) {
    std::string_view rest{end, static_cast<std::size_t>(text.data() + text.size() - end)};
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return {status, std::string{rest}};
  }
  return {603, text.empty() ? std::string{"Decline"} : std::string{text}};
}

}  // namespace junction::gateway
