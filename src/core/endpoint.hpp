#pragma once
// Listen addresses as operators write them: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:1935".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction {

struct listen_address {
  std::string host;  // a numeric IPv4 or IPv6 address
  std::uint16_t port = 0;

  // nullopt (with a reason in *why) when `text` is not "host:port" with a numeric host.
  static std::optional<listen_address> parse(std::string_view text, std::string* why = nullptr);
  // As parse, and a host name ("localhost:8080") is looked up (getaddrinfo, so /etc/hosts
  // first): its IPv4 addresses, or its IPv6 ones when it has no IPv4. Empty (with a reason) when
  // neither works. For configuration files, read before the server starts: it may block.
  static std::vector<listen_address> resolve(std::string_view text, std::string* why = nullptr);
  std::string to_string() const;
  bool operator==(const listen_address&) const = default;
};

}  // namespace junction
