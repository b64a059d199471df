#include "whip/service.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "core/connection.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "media/sdp/session.hpp"
#include "media/stream_hub.hpp"
#include "rtmp/access.hpp"
#include "rtmp/server.hpp"
#include "webrtc/offer_answer.hpp"
#include "webrtc/shard_ports.hpp"
#include "whip/whep_feed.hpp"
#include "whip/player.hpp"
#include "whip/publisher.hpp"

namespace junction::whip {
namespace {

namespace asio = boost::asio;
constexpr std::string_view sessions_prefix = "/webrtc/sessions/";

// "/live/cam/whip" -> {"live", "cam"}; false for any other shape.
bool split_path(std::string_view path, std::string_view suffix, std::string_view& app, std::string_view& name) {
  if (!path.starts_with('/') || !path.ends_with(suffix)) return false;
  path = path.substr(1, path.size() - 1 - suffix.size());
  auto slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size()) return false;
  app = path.substr(0, slash);
  name = path.substr(slash + 1);
  return name.find('/') == std::string_view::npos;
}

// The token a client presents: "Authorization: Bearer <token>" (RFC 9725 §4.5), else ?token=.
std::string_view presented_token(const http::request_context& ctx) {
  auto it = ctx.req.find(http::field::authorization);
  if (it != ctx.req.end()) {
    std::string_view v{it->value().data(), it->value().size()};
    if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) return v.substr(7);
  }
  return rtmp::query_value(ctx.query, "token");
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  std::string out;
  for (auto b : raw) fmt::format_to(std::back_inserter(out), "{:02x}", b);
  return out;
}

bool is_sdp(const http::request_context& ctx, std::string_view type) {
  auto it = ctx.req.find(http::field::content_type);
  if (it == ctx.req.end()) return false;
  std::string_view v{it->value().data(), it->value().size()};
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() != type.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != type[i]) return false;
  return true;
}

// The value of "a=<name>:" in an SDP fragment, or empty.
std::string_view fragment_value(std::string_view frag, std::string_view name) {
  std::size_t at = 0;
  while (at < frag.size()) {
    auto end = frag.find('\n', at);
    if (end == std::string_view::npos) end = frag.size();
    auto line = frag.substr(at, end - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > name.size() + 3 && line.substr(0, 2) == "a=" && line.substr(2, name.size()) == name &&
        line[2 + name.size()] == ':')
      return line.substr(3 + name.size());
    at = end + 1;
  }
  return {};
}

http::reply created(const http::request_context& ctx, std::string answer, const std::string& id,
                    const std::string& etag) {
  http::beast_http::response<http::beast_http::string_body> r{http::status::created, ctx.req.version()};
  r.set(http::field::content_type, "application/sdp");
  r.set(http::field::location, std::string(sessions_prefix) + id);
  r.set(http::field::etag, "\"" + etag + "\"");
  r.set(http::field::access_control_allow_origin, "*");
  r.set(http::field::access_control_expose_headers, "Location, ETag");
  r.body() = std::move(answer);
  return ctx.respond(std::move(r));
}

http::reply empty(const http::request_context& ctx, http::status code) {
  http::beast_http::response<http::beast_http::empty_body> r{code, ctx.req.version()};
  r.set(http::field::access_control_allow_origin, "*");
  return ctx.respond(std::move(r));
}

}  // namespace

struct service::shard_state {
  session_table table;
  std::unordered_map<std::string, std::weak_ptr<whep_feed>> feeds;
};

service::service(runtime& rt, webrtc::shard_ports& ports, rtmp::server& rtmp, media::stream_hub& hub,
                 worker_pool& workers)
    : rt_(rt),
      ports_(ports),
      rtmp_(rtmp),
      hub_(hub),
      workers_(workers),
      metrics_(session_metrics::declare(rt.registry())),
      shards_(rt) {}

service::~service() = default;

void service::attach(http::server& web) {
  web.routes().add({"*/whip", http::POST, false, http::async_handler{[this](http::request_context& ctx) {
                      return offer(ctx, true);
                    }}});
  web.routes().add({"*/whep", http::POST, false, http::async_handler{[this](http::request_context& ctx) {
                      return offer(ctx, false);
                    }}});
  web.routes().add({std::string(sessions_prefix), http::PATCH | http::DELETE, false,
                    http::async_handler{[this](http::request_context& ctx) { return on_session(ctx); }}});
}

asio::awaitable<http::reply> service::offer(http::request_context& ctx, bool publish) {
  auto& home = ctx.home();
  const char* what = publish ? "whip" : "whep";
  auto refuse = [&](http::status code, std::string_view why) {
    home.metrics().add(metrics_.refusals);
    log::info("{} conn={} {}: {} refused: {}", what, ctx.conn.id(), ctx.conn.peer(), ctx.path, why);
    return ctx.problem(code, why);
  };
  std::string_view app_name, name;
  if (!split_path(ctx.path, publish ? "/whip" : "/whep", app_name, name))
    co_return refuse(http::status::not_found, "not /<app>/<stream>/whip or /whep");
  const auto settings = rtmp_.settings();  // what `app` points into, for the whole request
  const rtmp::app_policy* app = settings->find_app(app_name);
  if (!app || !app->config.live) co_return refuse(http::status::not_found, "no such application");
  if (const char* why = co_await rtmp::http_refusal(*app, publish, ctx, presented_token(ctx), app_name, name, what)) {
    if (std::string_view(why) == "missing or wrong token") {
      home.metrics().add(metrics_.refusals);
      http::beast_http::response<http::beast_http::string_body> r{http::status::unauthorized, ctx.req.version()};
      r.set(http::field::www_authenticate, "Bearer");
      r.set(http::field::content_type, "text/plain; charset=utf-8");
      r.body() = "401 Unauthorized: missing or wrong token\n";
      co_return ctx.respond(std::move(r));
    }
    co_return refuse(http::status::forbidden, why);
  }
  // A player may ask for one simulcast layer of a stream: `?layer=<rid>` is `<stream>~<rid>`.
  auto key = rtmp::stream_key(app_name, name);
  const bool layer_asked = !publish && !rtmp::query_value(ctx.query, "layer").empty();
  if (!publish)
    if (auto layer = rtmp::query_value(ctx.query, "layer"); !layer.empty()) {
      if (!webrtc::is_rid(layer)) co_return refuse(http::status::bad_request, "a layer is a simulcast rid: 1-16 letters, digits, - or _");
      key = layer_key(key, std::string(layer));
    }
  if (!publish && !hub_.live_here(key) && !co_await hub_.is_published(key))
    co_return refuse(http::status::not_found, "stream not published");
  if (!is_sdp(ctx, "application/sdp"))
    co_return refuse(http::status::unsupported_media_type, "the offer must be application/sdp");
  auto parsed = media::sdp::parse(ctx.req.body());
  if (!parsed.ok()) co_return refuse(http::status::bad_request, "the offer does not parse: " + parsed.describe());
  auto read = webrtc::read_offer(*parsed.session);
  if (auto* why = std::get_if<std::string>(&read)) co_return refuse(http::status::bad_request, *why);
  const auto& o = std::get<webrtc::offer>(read);


  // One codec per section: Opus, and H.264 (what RTMP players decode, passed through), or for a
  // publisher that offers no H.264, VP8 (transcoded to H.264); a section Junction cannot take is
  // rejected in the answer.
  webrtc::answer_parameters p;
  p.receiver_estimates = !publish;  // a player's browser tells its estimate in REMB
  p.ice = webrtc::new_ice_credentials();
  p.fingerprint = ports_.certificate()->fingerprint();
  p.candidates = ports_.candidates(home.index());
  p.session_id = random_ssrc();
  publisher_tracks in;
  player_tracks out;
  for (const auto& m : o.media) {
    for (const auto& e : m.extensions)
      if (e.uri == webrtc::extension_uri::transport_cc && !in.transport_cc) in.transport_cc = e.id;
    std::optional<webrtc::chosen_codec> choice;
    using dir = media::sdp::direction;
    const bool sends = m.dir == dir::sendonly || m.dir == dir::sendrecv;
    const bool receives = m.dir == dir::recvonly || m.dir == dir::sendrecv;
    if (!m.rejected && (publish ? sends : receives)) {
      if (m.kind == "audio" && !(publish ? in.audio : out.audio)) choice = webrtc::choose_opus(m);
      if (m.kind == "video" && !(publish ? in.video : out.video)) {
        choice = webrtc::choose_video(m, true);
        if (choice && choice->codec.encoding != "H264" && !publish) choice.reset();
      }
    }
    std::uint32_t ssrc = 0, rtx_ssrc = 0;
    if (choice) {
      if (m.kind == "audio") {
        (publish ? in.audio : out.audio) = choice->codec;
        if (!publish) ssrc = out.audio_ssrc = random_ssrc();
      } else {
        (publish ? in.video : out.video) = choice->codec;
        if (choice->rtx) (publish ? in.video_rtx : out.video_rtx) = choice->rtx->payload_type;
        for (const auto& [pt, value] : m.feedback)
          if (publish && pt == choice->codec.payload_type && value == "goog-remb") in.remb = true;
        // Simulcast: each layer the browser names, when it also names them in its packets.
        if (publish && m.rids.size() > 1) {
          for (const auto& e : m.extensions) {
            if (e.uri == webrtc::extension_uri::rtp_stream_id) in.rid_extension = e.id;
            if (e.uri == webrtc::extension_uri::repaired_rtp_stream_id) in.repaired_rid_extension = e.id;
          }
          if (in.rid_extension) in.rids.assign(m.rids.begin(), m.rids.begin() + std::min<std::size_t>(m.rids.size(), 4));
        }
        if (!publish) {
          for (const auto& e : m.extensions)
            if (e.uri == webrtc::extension_uri::abs_send_time) out.abs_send_time = e.id;
          ssrc = out.video_ssrc = random_ssrc();
          if (choice->rtx) rtx_ssrc = out.video_rtx_ssrc = random_ssrc();
        }
      }
    }
    p.choices.push_back(choice);
    p.directions.push_back(publish ? dir::recvonly : dir::sendonly);
    p.send_ssrcs.push_back(ssrc);
    p.send_rtx_ssrcs.push_back(rtx_ssrc);
    p.receive_rids.push_back(choice && m.kind == "video" && publish ? in.rids : std::vector<std::string>{});
  }
  if (publish ? !in.audio && !in.video : !out.audio && !out.video)
    co_return refuse(http::status::not_acceptable, publish ? "the offer sends neither Opus nor H.264 nor VP8"
                                                           : "the offer receives neither Opus nor H.264");
  auto* port = ports_.at(home.index());
  if (!port || home.draining()) co_return refuse(http::status::service_unavailable, "the server is stopping");
  if (port->peers() >= ports_.config().max_peers)
    co_return refuse(http::status::service_unavailable, "this shard's WebRTC port is full (webrtc.max_peers)");

  // A player of a stream published in simulcast layers that asked for none starts on `<stream>`
  // (which carries the best layer, whichever that is by then), and may be moved down to the
  // layers below it: those whose picture is known, largest first, without the largest (the
  // one `<stream>` carries).
  std::vector<layer_option> layers;
  if (!publish && !layer_asked && out.video) {
    const std::string prefix = key + "~";
    const auto streams = co_await hub_.list();
    std::vector<std::pair<std::uint64_t, layer_option>> found;  // area, layer
    std::uint64_t main_rate = 0;
    for (const auto& st : streams) {
      const auto rate = static_cast<std::uint64_t>(st.bitrate_kbps * 1000);
      if (st.key == key) main_rate = rate;
      if (st.live && st.width && st.key.size() > prefix.size() && st.key.compare(0, prefix.size(), prefix) == 0)
        found.push_back({std::uint64_t{st.width} * st.height, {st.key, rate}});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second.bits_per_second > b.second.bits_per_second;
    });
    if (found.size() >= 2) {
      layers.push_back({key, main_rate});
      for (std::size_t i = 1; i < found.size(); ++i) {
        log::debug("{}: '{}' may go down to '{}' ({} pixels, {} bit/s)", what, key, found[i].second.key, found[i].first,
                  found[i].second.bits_per_second);
        layers.push_back(std::move(found[i].second));
      }
    }
  }
  auto& state = shards_.local();
  const std::string id = fmt::format("{}-{}", home.index(), random_hex(12));
  std::shared_ptr<session> s;
  if (publish) {
    media::publish_options options{app->config.takeover, {app->config.gop_cache, app->config.gop_cache_max_bytes}};
    media::publisher_info who{"webrtc", ctx.conn.peer(), ctx.conn.id()};
    auto claimed = co_await hub_.publish(key, options, who);
    if (!claimed.handle) co_return refuse(http::status::conflict, "the stream is already being published");
    // Each simulcast layer is a stream of its own too.
    std::vector<std::unique_ptr<media::publication>> layers;
    for (const auto& rid : in.rids) {
      const std::string layer_name = layer_key(key, rid);  // named: no temporaries in a co_await (GCC 12)
      auto layer = co_await hub_.publish(layer_name, options, who);
      if (!layer.handle)
        co_return refuse(http::status::conflict, "the stream of layer '" + rid + "' is already being published");
      layers.push_back(std::move(layer.handle));
    }
    // The port may have gone while the hub answered (the server started to stop).
    port = ports_.at(home.index());
    if (!port) co_return refuse(http::status::service_unavailable, "the server is stopping");
    s = std::make_shared<publisher>(home, *port, state.table, metrics_, id, key, ctx.conn.peer(),
                                    std::move(claimed.handle), std::move(layers), in, workers_);
  } else {
    // The shard's feed of a stream, made when there is none (a player moving between layers
    // asks again).
    feed_source feeds = [this, st = &state, h = &home](const std::string& stream) {
      auto& weak = st->feeds[stream];
      auto feed = weak.lock();
      if (!feed) weak = feed = std::make_shared<whep_feed>(*h, hub_, workers_, stream);
      return feed;
    };
    s = std::make_shared<player>(home, *port, state.table, metrics_, id, key, ctx.conn.peer(), std::move(feeds), out,
                                 std::move(layers));
  }
  if (!s->join(p.ice, o)) {
    s->end("the port is full");
    co_return refuse(http::status::service_unavailable, "this shard's WebRTC port is full (webrtc.max_peers)");
  }
  std::erase_if(state.feeds, [](const auto& r) { return r.second.expired(); });
  log::info("{} {} {}: {} '{}'", what, id, ctx.conn.peer(), publish ? "publishing" : "playing", key);
  co_return created(ctx, media::sdp::serialize(webrtc::make_answer(o, p)), id, p.ice.ufrag);
}

// PATCH and DELETE on /webrtc/sessions/<shard>-<random>: on the session's shard.
asio::awaitable<http::reply> service::on_session(http::request_context& ctx) {
  const std::string id{ctx.path.substr(sessions_prefix.size())};
  const auto dash = id.find('-');
  unsigned shard = 0;
  const bool shaped = dash != std::string::npos && dash > 0 && dash < 4 &&
                      std::all_of(id.begin(), id.begin() + static_cast<long>(dash), [](char c) { return c >= '0' && c <= '9'; });
  if (shaped) shard = static_cast<unsigned>(std::stoul(id.substr(0, dash)));
  if (!shaped || shard >= shards_.size()) co_return ctx.problem(http::status::not_found, "no such session");
  if (ctx.req.method() == http::verb::delete_) {
    // By pointer: what crosses to another shard captures nothing that owns memory (core/sharded.hpp).
    const std::string* wanted = &id;
    const bool ended =
        co_await shards_.ask(shard, [wanted](shard_state& s) { return s.table.end(*wanted, "deleted by the client"); });
    co_return ended ? empty(ctx, http::status::ok) : ctx.problem(http::status::not_found, "no such session");
  }
  // PATCH (RFC 9725 §4.3): trickled candidates. An ICE-lite server uses none (the browser's
  // checks find it), so they are taken and not kept. A new ufrag is an ICE restart, which a
  // client does by making a new session here.
  if (!is_sdp(ctx, "application/trickle-ice-sdpfrag"))
    co_return ctx.problem(http::status::unsupported_media_type, "a PATCH is application/trickle-ice-sdpfrag");
  const std::string ufrag{fragment_value(ctx.req.body(), "ice-ufrag")};
  // The answer comes back as a plain value: 0 no such session, 1 the same ufrag (or none given),
  // 2 another one.
  const std::string* wanted = &id;
  const std::string* given = &ufrag;
  const int found = co_await shards_.ask(shard, [wanted, given](shard_state& s) {
    auto* session = s.table.find(*wanted);
    if (!session) return 0;
    return given->empty() || *given == session->remote_ufrag() ? 1 : 2;
  });
  if (found == 0) co_return ctx.problem(http::status::not_found, "no such session");
  if (found == 2)
    co_return ctx.problem(http::status::unprocessable_entity, "ICE restarts are not supported: make a new session");
  co_return empty(ctx, http::status::no_content);
}

}  // namespace junction::whip
