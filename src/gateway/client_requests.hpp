#pragma once
// What a siprtmp client asks of its line, read from RTMP: the address it connects as
// (rtmp://host/<app>/<user>@<domain>[:port]) and the status it rejects a call with. Pure.
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace junction::gateway {

enum class request_errc {
  no_address = 1,  // the connect's app path names no <user>@<domain>
  bad_port,        // "domain:port" with a port that is not 1 to 5 digits
};

const std::error_category& request_category() noexcept;
std::error_code make_error_code(request_errc e) noexcept;

struct line_address {
  std::string user, domain;          // the address of record user@domain
  std::string server_port = "5060";  // "domain:port" names the domain's SIP server port
};

// From the connect's app path ("<app>/<user>@<domain>[:port]").
std::error_code parse_line_address(std::string_view app_path, line_address& out);

// "486 Busy Here" -> 486 and "Busy Here"; anything else is 603 Decline with that text.
std::pair<int, std::string> parse_rejection(std::string_view text);

}  // namespace junction::gateway

template <>
struct std::is_error_code_enum<junction::gateway::request_errc> : std::true_type {};
