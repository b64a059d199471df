// The XMPP server's part of the HTTP server: XMPP over WebSocket (RFC 7395) at /xmpp-websocket,
// and GET /api/v1/xmpp/sessions (admin): every client stream of every shard, gathered by asking
// each shard for its own. DELETE /api/v1/xmpp/sessions/<id>: ends that stream (a
// policy-violation stream error says why, then the connection closes). GET /api/v1/xmpp/s2s
// (admin): the federation links to other servers.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

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
  attach_upload(web);
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
  // XMPP over BOSH (XEP-0206): each request goes to the shard its session lives on (the sid says
  // which; a new one lives here) and is answered from there, held until there is something to say.
  web.routes().add({"/http-bind", http::POST, false,
                    http::async_handler{[this](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      unsigned target = ctx.home().index();
                      const std::string& text = ctx.req.body();
                      // The sid's shard, read off the text: the body is parsed where the session is.
                      if (auto at = text.find("sid="); at != std::string::npos && at + 5 < text.size()) {
                        unsigned shard = 0;
                        const char* start = text.data() + at + 5;
                        const auto [end, ec] = std::from_chars(start, text.data() + text.size(), shard);
                        if (ec == std::errc{} && end != start && *end == '.' && shard < bosh_->size()) target = shard;
                      }
                      const std::string peer = ctx.conn.peer();
                      const bool secure = ctx.conn.protocol() == "https";
                      auto [status, body] = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                                                 void(std::pair<int, std::string>)>(
                          [this, target, &text, &peer, secure](auto handler) {
                            auto guard = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
                            struct state {
                              decltype(handler) h;
                              decltype(guard) g;
                            };
                            auto st = std::make_shared<state>(state{std::move(handler), std::move(guard)});
                            bosh_->invoke_on(target, [st, text = text, peer = peer, secure](bosh_sessions& b) mutable {
                              b.request(std::move(text), std::move(peer), secure, [st](int status, std::string out) {
                                auto executor = st->g.get_executor();
                                boost::asio::post(executor, [st, status, out = std::move(out)]() mutable {
                                  std::move(st->h)(std::make_pair(status, std::move(out)));
                                });
                              });
                            });
                          },
                          boost::asio::use_awaitable);
                      co_return ctx.text(static_cast<http::status>(status), std::move(body), "text/xml; charset=utf-8");
                    }},
                    0, /*cross_origin=*/true});  // a web client's page may live anywhere (XEP-0206)
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
