#pragma once
namespace junction::http {
class server;
// /healthz, /metrics, /api/v1/server, /api/v1/connections (admin), and /ws/echo when enabled.
void add_builtin_routes(server& srv);
}  // namespace junction::http
