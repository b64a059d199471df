// GET /api/v1/sip/registrations (admin): every binding of every shard, gathered by asking each
// shard for its own.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/cross_shard.hpp"
#include "core/runtime.hpp"
#include "core/utc_time.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "sip/server.hpp"
#include "sip/shard_service.hpp"
#include "sip/stream_transport.hpp"
#include "http/websocket.hpp"

namespace junction::sip {
namespace {

namespace json = boost::json;

json::array snapshot(shard_service& service) {
  json::array out;
  auto now = sip_clock::now();
  for (const auto& [aor, list] : service.locations().all()) {
    json::array contacts;
    for (const auto& b : list) {
      if (b.expires_at <= now) continue;
      json::array path;
      for (const auto& p : b.path) path.emplace_back(p);
      contacts.push_back(json::object{{"contact", b.contact},
                                      {"expires", b.seconds_left(now)},
                                      {"q", b.q_milli / 1000.0},
                                      {"source", b.source},
                                      {"call_id", b.call_id},
                                      {"cseq", b.cseq},
                                      {"path", std::move(path)},
                                      {"registered_at", format_utc(b.registered_at, iso8601_utc)}});
    }
    if (!contacts.empty()) out.push_back(json::object{{"aor", aor}, {"contacts", std::move(contacts)}});
  }
  return out;
}

}  // namespace

void server::attach_http(http::server& web) {
  if (config_.websocket)
    web.websockets().add({"/sip", "sip", [this](http::websocket_channel& channel) {
                            return run_websocket_session(*this, channel);
                          }});
  web.routes().add({"/api/v1/sip/registrations", http::GET | http::HEAD, true,
                    http::async_handler{[this](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      json::array all;
                      for (unsigned i = 0; i < services_->size(); ++i) {
                        json::array part = co_await services_->ask(i, [](shard_service& s) { return snapshot(s); });
                        for (auto& v : part) all.push_back(std::move(v));
                      }
                      co_return ctx.json(http::status::ok,
                                         json::serialize(json::object{{"registrations", std::move(all)}}));
                    }}});
}

}  // namespace junction::sip
