#include "http/api.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "media/stream_hub.hpp"
#include "rtmp/http_routes.hpp"
#include "rtmp/server.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace junction::rtmp {
namespace {

namespace json = boost::json;

json::object to_json(const media::stream_summary& s) {
  auto slash = s.key.find('/');
  json::object o{
      {"app", s.key.substr(0, slash)},
      {"name", s.key.substr(slash + 1)},
      {"live", s.live},
      {"video_codec", s.video_codec},
      {"audio_codec", s.audio_codec},
      {"bitrate_kbps", s.bitrate_kbps},
      {"bytes_in", s.bytes_in},
      {"uptime_seconds", s.uptime.count()},
      {"players", s.sinks},
      {"publisher", json::object{{"protocol", s.publisher.protocol},
                                 {"address", s.publisher.address},
                                 {"connection", std::to_string(s.publisher.connection_id)}}},
  };
  if (s.width && s.height) {  // from the stream's H.264 sequence header
    o["width"] = s.width;
    o["height"] = s.height;
  }
  return o;
}

}  // namespace

void add_stream_api(server& srv, http::server& web) {
  web.routes().add({"/api/v1/streams", http::GET | http::HEAD, true,
                    http::async_handler{[&srv](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      auto streams = co_await srv.hub().list();
                      json::array out;
                      for (const auto& s : streams) out.push_back(to_json(s));
                      co_return ctx.json(http::status::ok,
                                         json::serialize(json::object{{"streams", std::move(out)}}));
                    }}});
  // One stream: GET its summary (404 when it is not there), DELETE closes its publisher.
  web.routes().add({"/api/v1/streams/", http::GET | http::HEAD | http::DELETE, true,
                    http::async_handler{[&srv](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      const std::string key{ctx.path.substr(std::string_view{"/api/v1/streams/"}.size())};
                      auto streams = co_await srv.hub().list();
                      if (ctx.req.method() != boost::beast::http::verb::delete_) {
                        for (const auto& s : streams)
                          if (s.key == key) co_return ctx.json(http::status::ok, json::serialize(to_json(s)));
                        co_return ctx.problem(http::status::not_found, "no such stream");
                      }
                      for (const auto& s : streams)
                        if (s.key == key && s.live &&
                            co_await http::close_connection_by_id(srv.rt(), s.publisher.connection_id))
                          co_return ctx.json(http::status::ok,
                                             json::serialize(json::object{{"closed", key}}));
                      co_return ctx.problem(http::status::not_found, "no such live stream");
                    }}});
}

}  // namespace junction::rtmp
