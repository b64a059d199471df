#pragma once
// What a siprtmp client asks of its line, read from RTMP: the address it connects as
// (rtmp://host/<app>/<user>@<domain>[:port]) and the status it rejects a call with. Pure.
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "media/amf/value.hpp"

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

// One of the client's NetConnection calls to its line, read from its arguments:
// invite(destination, codecs...), accept(codecs...), reject([status text]), hold([bool]), bye(),
// sendDTMF(keys). Arguments of the wrong type count as absent.
struct client_call {
  enum class kind { invite, accept, reject, hold, bye, dtmf };
  kind what = kind::bye;
  std::string text;                 // invite: the destination; reject: "486 Busy Here"; dtmf: the keys
  std::vector<std::string> codecs;  // invite (after the destination) and accept: siprtmp codec names
  bool on = true;                   // hold(true) / hold(false); hold() holds
};
// Nothing when `name` is not one of the line's calls.
std::optional<client_call> read_client_call(std::string_view name, std::span<const media::amf::value> args);

}  // namespace junction::gateway

template <>
struct std::is_error_code_enum<junction::gateway::request_errc> : std::true_type {};
