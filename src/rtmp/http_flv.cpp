// HTTP-FLV: GET /<app>/<stream>.flv streams a live stream as an FLV file that never ends (for
// flv.js / mpegts.js, ffplay, VLC). A client is one more sink of the hub, with the same bounded
// queue and keyframe skipping as an RTMP player; FLV tags are made once per shard and shared.
#include "core/log.hpp"
#include "core/shard.hpp"
#include "http/client.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "media/flv.hpp"
#include "media/send_queue.hpp"
#include "media/stream_hub.hpp"
#include "rtmp/access.hpp"
#include "rtmp/http_routes.hpp"
#include "rtmp/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace junction::rtmp {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t flv_form = 0;  // shard_frame form key for FLV tags (RTMP forms are >= 128 << 32)

class flv_client final : public media::sink {
 public:
  flv_client(server& srv, shard& home, connection& conn)
      : srv_{srv}, home_{home}, conn_{conn}, queue_{srv.settings()->config.player_queue_bytes},
        wake_{home.context()}, tick_{home.context()} {
    // First in the queue, before subscribing replays metadata, configurations and the GOP.
    queue_.push_control(shared_buffer::copy_of(media::flv::file_header(true, true)));
  }

  void on_start() override { need_keyframe_ = true; }
  void on_stop() override {
    // The FLV ends with its publisher; players reconnect (flv.js does) when it returns.
    ended_ = true;
    wake_.cancel();
  }
  void on_frame(const media::shard_frame_ptr& f) override {
    const media::frame& fr = f->frame();
    if (fr.is_video() && !fr.config) {
      if (need_keyframe_ && !fr.keyframe) return;
      need_keyframe_ = false;
    }
    auto tag = f->encoded(flv_form, [](const media::frame& x) { return media::flv::tag(x); });
    const auto size = tag.size();
    auto& metrics = home_.metrics();
    const auto skips = queue_.skips();
    if (queue_.push_media(std::move(tag), fr)) {
      metrics.add(srv_.metrics().bytes_relayed, size);
      if (asleep_) wake_.cancel();
    } else {
      metrics.add(srv_.metrics().dropped_frames);
      if (queue_.skips() != skips) metrics.add(srv_.metrics().player_skips);
    }
  }

  asio::awaitable<void> write_loop(http::body_stream& body) {
    std::vector<shared_buffer> batch;
    while (!done_) {
      if (queue_.empty()) {
        if (ended_) break;
        wake_.expires_at(clock::time_point::max());
        asleep_ = true;
        co_await wake_.async_wait(no_throw);
        asleep_ = false;
        continue;
      }
      batch.clear();
      queue_.take(batch, 256 * 1024);
      writing_ = true;
      write_started_ = clock::now();
      auto ec = co_await body.write(batch);
      writing_ = false;
      if (ec) break;
    }
    done_ = true;
    tick_.cancel();
    body.close();
  }
  // Closes a client whose socket accepts nothing for send_timeout.
  asio::awaitable<void> watchdog(http::body_stream& body) {
    const auto timeout = srv_.settings()->config.send_timeout;
    while (!done_) {
      tick_.expires_after(std::clamp(timeout / 4, std::chrono::milliseconds{100}, std::chrono::milliseconds{5000}));
      co_await tick_.async_wait(no_throw);
      if (!done_ && writing_ && clock::now() - write_started_ > timeout) {
        conn_.count_timeout();
        body.close();
        break;
      }
    }
  }
  void end() {
    done_ = true;
    wake_.cancel();
    tick_.cancel();
  }

 private:
  server& srv_;
  shard& home_;
  connection& conn_;
  media::send_queue queue_;
  asio::steady_timer wake_, tick_;
  bool need_keyframe_ = true, ended_ = false, done_ = false, writing_ = false;
  bool asleep_ = false;  // the writer waits on wake_ (see session::wake)
  clock::time_point write_started_;
};

// "/live/cam.flv" -> {"live", "cam"}; false for any other shape.
bool split_flv_path(std::string_view path, std::string_view& app, std::string_view& name) {
  if (!path.starts_with('/') || !path.ends_with(".flv")) return false;
  path = path.substr(1, path.size() - 5);
  auto slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size()) return false;
  app = path.substr(0, slash);
  name = path.substr(slash + 1);
  return name.find('/') == std::string_view::npos;
}

asio::awaitable<http::reply> serve_flv(server& srv, http::request_context& ctx) {
  std::string_view app_name, name;
  if (!split_flv_path(ctx.path, app_name, name)) co_return ctx.problem(http::status::not_found);
  const auto settings = srv.settings();  // what `app` points into, for the whole request
  const app_policy* app = settings->find_app(app_name);
  if (!app || !app->config.live) co_return ctx.problem(http::status::not_found, "no such application");
  if (const char* refusal =
          co_await http_refusal(*app, false, ctx, query_value(ctx.query, "token"), app_name, name, "http-flv"))
    co_return ctx.problem(http::status::forbidden, refusal);
  auto key = stream_key(app_name, name);
  if (!srv.hub().live_here(key) && !co_await srv.hub().is_published(key))
    co_return ctx.problem(http::status::not_found, "stream not published");

  http::beast_http::response<http::beast_http::empty_body> head{http::status::ok, ctx.req.version()};
  head.set(http::field::content_type, "video/x-flv");
  head.set(http::field::cache_control, "no-cache");
  head.set(http::field::access_control_allow_origin, "*");  // flv.js fetches cross-origin
  head.set(http::field::server, http::server_header);
  head.keep_alive(false);
  http::reply r{std::move(head)};
  if (ctx.req.method() == http::verb::head) co_return r;
  r.stream = [&srv, key](http::body_stream& body) -> asio::awaitable<void> {
    auto& home = *shard::current();
    flv_client client{srv, home, body.conn()};
    srv.hub().subscribe(key, client);
    home.metrics().add(srv.metrics().flv_plays);
    log::info("http-flv conn={} {}: playing '{}'", body.conn().id(), body.conn().peer(), key);
    auto reader = [&]() -> asio::awaitable<void> {
      co_await body.closed_by_peer();
      client.end();
      // A write may be pending on a peer that left (over TLS, a close_notify ends the read while
      // TCP stays up and nothing reads our bytes): it fails now instead of waiting forever.
      body.close();
    };
    co_await (client.write_loop(body) && client.watchdog(body) && reader());
    srv.hub().unsubscribe(key, client);
  };
  co_return r;
}

}  // namespace

void add_http_flv_route(server& srv, http::server& web) {
  web.routes().add({"*.flv", http::GET | http::HEAD, false,
                    http::async_handler{[&srv](http::request_context& ctx) { return serve_flv(srv, ctx); }}});
}
}  // namespace junction::rtmp
