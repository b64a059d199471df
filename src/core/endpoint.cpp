#include "core/endpoint.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace junction {

std::optional<listen_address> listen_address::parse(std::string_view text, std::string* why) {
  auto fail = [why](const char* reason) -> std::optional<listen_address> {
    if (why) *why = reason;
    return std::nullopt;
  };
  std::string_view host, port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected \"[ipv6]:port\"");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected \"host:port\"");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail("an IPv6 address must be written in brackets, e.g. \"[::1]:8080\"");
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string{host}, ec);
  if (ec) return fail("the host must be a numeric IPv4 or IPv6 address");
  unsigned value = 0;
  auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || err != std::errc{} || end != port.data() + port.size() || value > 65535)
    return fail("the port must be a number from 0 to 65535");
  return listen_address{std::string{host}, static_cast<std::uint16_t>(value)};
}

std::string listen_address::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace junction
