// The XMPP server's part of the HTTP server: XMPP over WebSocket (RFC 7395) at /xmpp-websocket,
// and GET /api/v1/xmpp/sessions (admin): every client stream of every shard, gathered by asking
// each shard for its own. DELETE /api/v1/xmpp/sessions/<id>: ends that stream (a
// policy-violation stream error says why, then the connection closes). GET /api/v1/xmpp/s2s
// (admin): the federation links to other servers.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

#include "core/connection.hpp"
#include "core/runtime.hpp"
#include "core/utc_time.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "http/websocket.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

namespace json = boost::json;
constexpr std::string_view sessions_path = "/api/v1/xmpp/sessions";

json::array snapshot(shard_router& router) {
  json::array out;
  for (const auto& s : router.streams())
    out.push_back(json::object{{"id", std::to_string(s.id)},
                               {"jid", s.address},
                               {"bound", s.bound},
                               {"peer", s.peer},
                               {"secure", s.secure},
                               {"since", format_utc(s.since, iso8601_utc)}});
  return out;
}

json::array link_snapshot(s2s_links& links) {
  json::array out;
  for (const auto& l : links.links())
    out.push_back(json::object{{"local", l.local},
                               {"remote", l.remote},
                               {"ready", l.ready},
                               {"connecting", l.connecting},
                               {"queued", l.queued},
                               {"last_error", l.last_error}});
  return out;
}

}  // namespace

void server::attach_http(http::server& web) {
  web.websockets().add({"/xmpp-websocket", "xmpp", [this](http::websocket_channel& channel) {
                          return run_websocket_c2s(*this, channel);
                        }});
  web.routes().add({std::string(sessions_path), http::GET | http::HEAD, true,
                    http::async_handler{[this](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      json::array all;
                      for (unsigned i = 0; i < routers_->size(); ++i) {
                        json::array part = co_await routers_->ask(i, [](shard_router& r) { return snapshot(r); });
                        for (auto& v : part) all.push_back(std::move(v));
                      }
                      co_return ctx.json(http::status::ok, json::serialize(json::object{{"sessions", std::move(all)}}));
                    }}});
  web.routes().add({"/api/v1/xmpp/s2s", http::GET | http::HEAD, true,
                    http::async_handler{[this](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      json::array all;
                      for (unsigned i = 0; i < links_->size(); ++i) {
                        json::array part = co_await links_->ask(i, [](s2s_links& l) { return link_snapshot(l); });
                        for (auto& v : part) all.push_back(std::move(v));
                      }
                      co_return ctx.json(http::status::ok, json::serialize(json::object{{"links", std::move(all)}}));
                    }}});
  web.routes().add({std::string(sessions_path) + "/", http::DELETE, true,
                    http::async_handler{[this](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      const std::string_view text = ctx.path.substr(sessions_path.size() + 1);
                      std::uint64_t id = 0;
                      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
                      const unsigned shard = connection_registry::shard_of(id);
                      if (ec != std::errc{} || end != text.data() + text.size() || shard >= routers_->size())
                        co_return ctx.problem(http::status::not_found, "no such session");
                      const bool kicked = co_await routers_->ask(shard, [id](shard_router& r) {
                        return r.kick_here(id, "policy-violation", "closed by an administrator");
                      });
                      if (!kicked) co_return ctx.problem(http::status::not_found, "no such session");
                      co_return ctx.json(http::status::ok, json::serialize(json::object{{"closed", std::to_string(id)}}));
                    }}});
}

}  // namespace junction::xmpp
