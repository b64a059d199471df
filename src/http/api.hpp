#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>

namespace junction {
class runtime;
}

namespace junction::http {
class server;
// /healthz, /metrics, /api/v1/server, /api/v1/connections (admin), and /ws/echo when enabled.
void add_builtin_routes(server& srv);
// Closes connection `id` on the shard that owns it; false when there is no such connection.
boost::asio::awaitable<bool> close_connection_by_id(runtime& rt, std::uint64_t id);
}  // namespace junction::http
