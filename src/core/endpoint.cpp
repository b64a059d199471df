#include "core/endpoint.hpp"

#include <boost/asio/ip/address.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
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

std::vector<listen_address> listen_address::resolve(std::string_view text, std::string* why) {
  std::string numeric_why;
  if (auto numeric = parse(text, &numeric_why)) return {*numeric};
  // Only a name in the host's place is looked up; every other mistake stands as parse says it.
  const auto colon = text.rfind(':');
  if (text.starts_with('[') || colon == std::string_view::npos || numeric_why.find("host") == std::string::npos) {
    if (why) *why = numeric_why;
    return {};
  }
  const std::string host{text.substr(0, colon)};
  auto with_port = parse("0.0.0.0" + std::string{text.substr(colon)}, why);
  if (!with_port) return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    if (why) *why = "the host is neither a numeric address nor a name that resolves (" + host + ": " + gai_strerror(rc) + ")";
    return {};
  }
  std::vector<listen_address> v4, v6;
  for (auto* a = found; a; a = a->ai_next) {
    char text_address[INET6_ADDRSTRLEN] = {};
    const void* raw = a->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || !::inet_ntop(a->ai_family, raw, text_address, sizeof text_address))
      continue;
    auto& into = a->ai_family == AF_INET ? v4 : v6;
    listen_address l{text_address, with_port->port};
    if (std::find(into.begin(), into.end(), l) == into.end()) into.push_back(std::move(l));
  }
  ::freeaddrinfo(found);
  if (v4.empty() && v6.empty() && why) *why = "the host name " + host + " has no address";
  return v4.empty() ? v6 : v4;
}

std::string listen_address::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace junction
