#pragma once
// Who may use admin routes: with an admin token configured, whoever presents it as
// "Authorization: Bearer <token>"; without one, only clients on loopback.
#include "http/message.hpp"

#include <optional>
#include <string>

namespace junction::http {

class request_context;

// nullopt: allowed. Otherwise the refusal to send (401 and counted, or 403).
std::optional<reply> check_admin(request_context& ctx, const std::string& token);

}  // namespace junction::http
