#include "http/api.hpp"

#include "core/cross_shard.hpp"
#include "core/runtime.hpp"
#include "core/version.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace junction::http {
namespace {

namespace json = boost::json;

reply health(request_context& ctx) {
  // A draining server says so, so that a load balancer stops sending it new clients.
  if (ctx.home().draining()) return ctx.text(status::service_unavailable, "draining\n");
  return ctx.text(status::ok, "ok\n");
}

reply metrics(request_context& ctx) {
  auto shards = ctx.srv.rt().all_metrics();
  return ctx.text(status::ok, ctx.srv.rt().registry().render_prometheus(shards),
                  "text/plain; version=0.0.4; charset=utf-8");
}

reply server_info(request_context& ctx) {
  auto& rt = ctx.srv.rt();
  json::array listeners;
  for (const auto& l : rt.listeners())
    listeners.push_back({{"protocol", l.protocol}, {"transport", l.transport},
                         {"address", l.address}});
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - rt.started());
  json::object body{
      {"name", "junction"},
      {"version", JUNCTION_VERSION},
      {"io_backend", JUNCTION_IO_BACKEND},
      {"shards", rt.size()},
      {"uptime_seconds", uptime.count()},
      {"connections", rt.open_connections()},
      {"max_connections", rt.limit().max()},
      {"listeners", std::move(listeners)},
  };
  return ctx.json(status::ok, json::serialize(body));
}

// GET: the routes the server has, each with its methods and whether it needs the admin token;
// what the tests walk to prove that every admin route refuses without it.
reply list_routes(request_context& ctx) {
  json::array routes;
  for (const auto& r : ctx.srv.routes().all()) {
    json::array methods;
    for (auto [bit, name] : {std::pair{GET, "GET"}, {HEAD, "HEAD"}, {POST, "POST"}, {PUT, "PUT"}, {DELETE, "DELETE"}})
      if (r.methods & bit) methods.emplace_back(name);
    const char* kind = r.path.starts_with('*') ? "suffix" : r.path.ends_with('/') ? "prefix" : "exact";
    routes.push_back(json::object{{"path", r.path}, {"match", kind}, {"methods", std::move(methods)}, {"admin", r.admin}});
  }
  return ctx.json(status::ok, json::serialize(json::object{{"routes", std::move(routes)}}));
}

json::object to_json(const connection_info& c) {
  return {{"id", std::to_string(c.id)}, {"shard", c.shard},     {"protocol", c.protocol},
          {"peer", c.peer},             {"age_ms", static_cast<std::int64_t>(c.age_seconds * 1000)}, {"idle", c.idle},
          {"bytes_in", c.bytes_in},     {"bytes_out", c.bytes_out}};
}

// GET: every connection on every shard, asked of each shard in turn.
boost::asio::awaitable<reply> list_connections(request_context& ctx) {
  auto& rt = ctx.srv.rt();
  json::array all;
  for (unsigned i = 0; i < rt.size(); ++i) {
    auto& target = rt.at(i);
    auto listed = co_await invoke_on(target, [&target] { return target.connections().list(); });
    for (const auto& c : listed) all.push_back(to_json(c));
  }
  co_return ctx.json(status::ok, json::serialize(json::object{{"connections", std::move(all)}}));
}

// DELETE /api/v1/connections/<id>: closes one connection, on the shard that owns it.
boost::asio::awaitable<reply> close_connection(request_context& ctx) {
  constexpr std::string_view prefix = "/api/v1/connections/";
  auto text = ctx.path.substr(prefix.size());
  std::uint64_t id = 0;
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), id);
  auto& rt = ctx.srv.rt();
  if (text.empty() || err != std::errc{} || end != text.data() + text.size())
    co_return ctx.problem(status::bad_request, "expected a numeric connection id");
  if (!co_await close_connection_by_id(rt, id))
    co_return ctx.problem(status::not_found, "no such connection");
  co_return ctx.json(status::ok, json::serialize(json::object{{"closed", std::to_string(id)}}));
}

}  // namespace

boost::asio::awaitable<bool> close_connection_by_id(runtime& rt, std::uint64_t id) {
  auto index = connection_registry::shard_of(id);
  if (index >= rt.size()) co_return false;
  auto& target = rt.at(index);
  co_return co_await invoke_on(target, [&target, id] {
    auto* c = target.connections().find(id);
    if (c) c->close();
    return c != nullptr;
  });
}

void add_builtin_routes(server& srv) {
  auto& r = srv.routes();
  r.add({"/healthz", GET | HEAD, false, sync_handler{health}});
  r.add({"/metrics", GET | HEAD, false, sync_handler{metrics}});
  r.add({"/api/v1/server", GET | HEAD, false, sync_handler{server_info}});
  r.add({"/api/v1/connections", GET | HEAD, true, async_handler{list_connections}});
  r.add({"/api/v1/connections/", DELETE, true, async_handler{close_connection}});
  r.add({"/api/v1/routes", GET | HEAD, true, sync_handler{list_routes}});
  if (srv.config().websocket_echo) srv.websockets().add({"/ws/echo", "", echo_handler});
}

}  // namespace junction::http
