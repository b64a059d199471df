// One RTMP connection: a reader that feeds the protocol core and acts on its events, a writer
// that sends the connection's queue in gathered writes, and a watchdog for the handshake, idle
// and stalled-writer deadlines and for pings. The three run together and end together.
#include "rtmp/session.hpp"

#include "core/aligned_deadline.hpp"
#include "core/byte_stream.hpp"
#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/shared_tick.hpp"
#include "core/spawn.hpp"
#include "media/send_queue.hpp"
#include "media/stream_hub.hpp"
#include "rtmp/access.hpp"
#include "rtmp/hooks.hpp"
#include "rtmp/player.hpp"
#include "rtmp/server.hpp"
#include "rtmp/server_protocol.hpp"
#include "rtmp/vod_player.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

namespace junction::rtmp {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
// Players send next to nothing: they read into a small buffer. A connection whose reads fill it
// (a publisher) gets the big one.
constexpr std::size_t small_read_buffer = 2 * 1024;
constexpr std::size_t large_read_buffer = 64 * 1024;
// Bytes handed to one gathered write: big writes are what make fan-out cheap (see
// docs/benchmarks.md), and this still bounds the time one write keeps the socket busy.
constexpr std::size_t write_batch_bytes = 256 * 1024;

struct published {
  std::string name, key;
  std::unique_ptr<media::publication> handle;
  std::unique_ptr<stream_recording> recording;  // publish type record/append, or rtmp.app record
};

class session final : public player_host, public client_link {
 public:
  session(server& srv, shard& home, std::unique_ptr<byte_stream> stream, connection& conn,
          asio::ip::address peer)
      : srv_{srv},
        settings_{srv.settings()},
        cfg_{settings_->config},
        home_{home},
        stream_{std::move(stream)},
        conn_{conn},
        peer_{std::move(peer)},
        core_{srv.protocol_options(cfg_)},
        queue_{cfg_.player_queue_bytes},
        wake_{home.context()},
        tick_{home.context()} {
    // RTMP connections hold no half-done exchange: a draining server closes them at once.
    conn_.set_idle(true);
  }

  asio::awaitable<void> run();
  void close_from_outside() { stop("closed by the server"); }

  server_protocol& protocol() noexcept override { return core_; }
  // client_link, for an application handler.
  void invoke(std::string_view method, std::vector<media::amf::value> args) override {
    if (stopping_ || finishing_) return;
    core_.invoke(method, args);
    flush();
  }
  void disconnect(std::string_view why) override { finish(why); }
  std::uint64_t connection_id() const override { return conn_.id(); }
  std::string_view peer() const override { return conn_.peer(); }
  shard& home() override { return home_; }
  void enqueue_media(shared_buffer bytes, const media::frame& f) override;
  void flush() override;

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> watchdog();
  asio::awaitable<void> handle(protocol_event& e, std::vector<protocol_event>& more);
  asio::awaitable<void> on_connect(const connect_request& r, std::vector<protocol_event>& more);
  asio::awaitable<const char*> refusal_for(bool publish, std::uint32_t stream_id,
                                           std::string_view name, std::string_view query);
  void refused(std::string_view what, std::string_view name, std::string_view why);
  asio::awaitable<void> on_publish(const publish_request& r);
  asio::awaitable<void> on_play(const play_request& r);
  asio::awaitable<void> play_recorded(const play_request& r, const std::string& path);
  void on_media(const media_message& m);
  void close_stream(std::uint32_t stream_id);
  void on_call(const server_call& c);
  std::string key_of(std::string_view name) const {
    return handler_ ? handler_->stream_key(name) : stream_key(app_name_, name);
  }
  // Asks an on_* hook; true when there is none or it answered 2xx.
  asio::awaitable<bool> ask_hook(const std::string& url, const char* action, std::string_view name,
                                 std::string_view query);
  void notify_done(std::string_view name, bool publisher);
  hook_client hook_client_info() const;
  // Why a recording may not be played here (see server::vod_target), or nullptr.
  const char* vod_refusal(const std::string& token, std::string_view stream_query) const;
  // Refusal replies go out, then the connection closes.
  void finish(std::string_view why);
  void stop(std::string_view why);
  void time_out(std::string_view why);
  // Cancelling a timer nobody waits on still costs the event loop a timer-queue update: only
  // wake the writer when it sleeps.
  void wake() {
    if (writer_asleep_) wake_.cancel();
  }

  server& srv_;
  // The settings this connection started with: a reload does not change them under it.
  std::shared_ptr<const rtmp_settings> settings_;
  const rtmp_config& cfg_;
  shard& home_;
  std::unique_ptr<byte_stream> stream_;
  connection& conn_;
  asio::ip::address peer_;
  server_protocol core_;
  media::send_queue queue_;
  asio::steady_timer wake_, tick_;
  // Ends a publisher's wait for the shard's merged-read tick when the session stops.
  asio::cancellation_signal merge_cancel_;

  const app_policy* app_ = nullptr;
  std::unique_ptr<app_handler> handler_;  // an application with behaviour of its own
  std::string app_name_, tc_url_, tc_query_;
  std::map<std::uint32_t, published> publishing_;
  std::map<std::uint32_t, std::unique_ptr<player>> playing_;
  std::map<std::uint32_t, std::shared_ptr<vod_player>> vods_;  // recorded streams played

  clock::time_point started_ = clock::now(), last_read_ = started_, last_ping_ = started_;
  clock::time_point write_started_;
  bool handshaken_ = false, writing_ = false, finishing_ = false, stopping_ = false;
  bool writer_asleep_ = false;
};

asio::awaitable<void> session::run() {
  co_await (read_loop() && write_loop() && watchdog());
  if (handler_) {
    handler_->on_disconnect();
    handler_.reset();
  }
  // Leaving: publications end (players everywhere get UnpublishNotify), players unsubscribe.
  for (auto& [id, p] : playing_) {
    srv_.hub().unsubscribe(p->key(), *p);
    notify_done(p->name(), false);
  }
  playing_.clear();
  for (auto& [id, v] : vods_) v->stop();
  vods_.clear();
  for (auto& [id, p] : publishing_) notify_done(p.name, true);
  publishing_.clear();
}

// Reading ------------------------------------------------------------------------------------

asio::awaitable<void> session::read_loop() {
  if (auto ec = co_await stream_->handshake()) {
    conn_.count_error();
    stop(fmt::format("TLS handshake failed: {}", ec.message()));
    co_return;
  }
  std::vector<std::byte> buffer(small_read_buffer);
  std::vector<protocol_event> events;
  while (!stopping_ && !finishing_) {
    auto [ec, n] = co_await stream_->read_some(buffer);
    if (ec) {
      stop(ec == asio::error::eof ? "closed by the client" : ec.message());
      break;
    }
    last_read_ = clock::now();
    conn_.received(n);
    const bool filled = n == buffer.size();  // more may be waiting
    const bool grow = filled && buffer.size() < large_read_buffer;
    events.clear();
    auto fed = core_.feed(std::span{buffer.data(), n}, events, last_read_);
    for (std::size_t i = 0; i < events.size() && !stopping_ && !finishing_; ++i) {
      auto e = std::move(events[i]);
      co_await handle(e, events);
    }
    flush();
    if (fed.error) {
      conn_.count_error();
      finish(fed.error.message());
    }
    if (grow) buffer.resize(large_read_buffer);
    // Merged writes are made here, at the source: a publisher's input is taken in once per
    // shard tick, so every frame that arrived in the window reaches the players together and
    // each player gets one write for all of them. Meanwhile the bytes wait in the socket's
    // receive buffer and the shard sleeps (on a virtual machine each wake-up of the event loop
    // costs more than the write it delays). A read that filled the buffer reads again at once.
    // Not for an application with behaviour of its own (the SIP gateway): a call's audio must
    // reach the phone paced, not in bursts; nor for one with low_latency.
    if (cfg_.merge_write.count() > 0 && !publishing_.empty() && !handler_ && !(app_ && app_->config.low_latency) &&
        !filled && !stopping_ && !finishing_ && !stream_->more_waiting()) {
      co_await home_.merge_tick().next(cfg_.merge_write, merge_cancel_.slot());
    }
  }
}

asio::awaitable<void> session::handle(protocol_event& e, std::vector<protocol_event>& more) {
  if (auto* h = std::get_if<handshake_done>(&e)) {
    handshaken_ = true;
    log::debug("rtmp conn={} {}: handshake done ({})", conn_.id(), conn_.peer(),
               h->digest ? "digest" : "plain");
  } else if (auto* c = std::get_if<connect_request>(&e)) {
    co_await on_connect(*c, more);
  } else if (auto* p = std::get_if<publish_request>(&e)) {
    co_await on_publish(*p);
  } else if (auto* p = std::get_if<play_request>(&e)) {
    co_await on_play(*p);
  } else if (auto* m = std::get_if<media_message>(&e)) {
    on_media(*m);
  } else if (auto* s = std::get_if<stream_closed>(&e)) {
    close_stream(s->stream_id);
  } else if (auto* t = std::get_if<receive_toggle>(&e)) {
    if (auto it = playing_.find(t->stream_id); it != playing_.end()) it->second->receive(t->video, t->enabled);
  } else if (auto* sk = std::get_if<seek_request>(&e)) {
    if (auto it = vods_.find(sk->stream_id); it != vods_.end()) it->second->seek(sk->position_ms);
    else core_.seek_failed(sk->stream_id, "live streams cannot seek");
  } else if (auto* p = std::get_if<pause_request>(&e)) {
    if (auto v = vods_.find(p->stream_id); v != vods_.end()) {
      v->second->pause(p->pause);
      if (!p->pause) queue_.restart();
      core_.pause_notify(*p, {});
    } else if (auto it = playing_.find(p->stream_id); it != playing_.end()) {
      it->second->pause(p->pause);
      if (!p->pause) queue_.restart();
      core_.pause_notify(*p, it->second->name());
    }
  } else if (auto* c = std::get_if<server_call>(&e)) {
    on_call(*c);
  }
}

asio::awaitable<void> session::on_connect(const connect_request& r, std::vector<protocol_event>& more) {
  const auto* factory = srv_.app_handler_for(r.app);
  // A handler's application is its first path segment ("sip" of "sip/alice@example.com").
  app_ = settings_->find_app(factory ? std::string_view{r.app}.substr(0, r.app.find('/')) : std::string_view{r.app});
  const char* refusal = !app_ ? "no such application (no [[rtmp.app]] names it, and rtmp.catch_all is off)"
                        : !app_->config.live ? "application does not serve live streams"
                                             : nullptr;
  // The hook is told which application and tcUrl are asked for.
  app_name_ = r.app;
  tc_url_ = r.tc_url;
  tc_query_ = r.query;
  if (!refusal && !co_await ask_hook(app_->config.on_connect, "on_connect", {}, r.query))
    refusal = "refused by the on_connect hook";
  std::optional<std::string> handler_refusal;
  if (!refusal && factory) {
    handler_ = (*factory)(*this);
    handler_refusal = co_await handler_->on_connect(r);
    if (handler_refusal) {
      refusal = handler_refusal->c_str();
      handler_->on_disconnect();
      handler_.reset();
    }
  }
  if (refusal) {
    core_.reject_connect(r, refusal);
    conn_.home().metrics().add(srv_.metrics().refusals);
    finish(fmt::format("connect to '{}' refused: {}", r.app, refusal));
    co_return;
  }
  core_.accept_connect(r);
  log::debug("rtmp conn={} {}: connected to '{}' ({})", conn_.id(), conn_.peer(), r.app, r.flash_ver);
  core_.feed({}, more);  // messages the client sent behind connect
}

const char* session::vod_refusal(const std::string& token, std::string_view stream_query) const {
  const auto& a = app_->config;
  return rtmp::vod_refusal(token, !a.play_token.empty() || !a.on_play.empty() || !app_->play_from.empty(),
                           peer_.is_loopback(), stream_query, tc_query_);
}

// Why this client may not publish (or play) `name` on `stream_id`, or nullptr.
asio::awaitable<const char*> session::refusal_for(bool publish, std::uint32_t stream_id,
                                                  std::string_view name, std::string_view query) {
  const auto& a = app_->config;
  if (name.empty()) co_return "empty stream name";
  if (publishing_.contains(stream_id) || (publish && playing_.contains(stream_id))) co_return "stream in use";
  if (!allowed(publish ? app_->publish_from : app_->play_from, peer_))
    co_return publish ? "address not allowed to publish" : "address not allowed to play";
  if (!token_ok(publish ? a.publish_token : a.play_token, query, tc_query_)) co_return "missing or wrong token";
  if (!co_await ask_hook(publish ? a.on_publish : a.on_play, publish ? "on_publish" : "on_play", name, query))
    co_return publish ? "refused by the on_publish hook" : "refused by the on_play hook";
  co_return nullptr;
}

void session::refused(std::string_view what, std::string_view name, std::string_view why) {
  conn_.home().metrics().add(srv_.metrics().refusals);
  finish(fmt::format("{} of '{}/{}' refused: {}", what, app_name_, name, why));
}

asio::awaitable<void> session::on_publish(const publish_request& r) {
  const auto& a = app_->config;
  if (const char* refusal = co_await refusal_for(true, r.stream_id, r.name, r.query)) {
    core_.publish_refused(r, "NetStream.Publish.Denied", refusal);
    refused("publish", r.name, refusal);
    co_return;
  }
  auto& metrics = conn_.home().metrics();
  auto key = key_of(r.name);
  media::publish_options options{a.takeover, {a.gop_cache, a.gop_cache_max_bytes}};
  // Named, not temporaries in the co_await expression: GCC 12 mishandles non-trivial
  // temporaries there (destroys them twice).
  media::publisher_info who{"rtmp", conn_.peer(), conn_.id()};
  auto claimed = co_await srv_.hub().publish(key, std::move(options), std::move(who));
  if (!claimed.handle) {
    // FMS keeps the connection after BadName: the client may try another name.
    core_.publish_refused(r, "NetStream.Publish.BadName", r.name + " is already being published");
    metrics.add(srv_.metrics().refusals);
    log::info("rtmp conn={} {}: '{}' is already being published", conn_.id(), conn_.peer(), key);
    co_return;
  }
  claimed.handle->on_evicted([this, key] { finish(fmt::format("'{}' taken over by another publisher", key)); });
  // A publisher's frames may be big (keyframes) and interleaved: its incomplete messages get the
  // larger limit.
  core_.set_buffer_limit(cfg_.incomplete_bytes);
  auto& entry = publishing_[r.stream_id] = published{r.name, key, std::move(claimed.handle), nullptr};
  const bool record = r.type == "record" || r.type == "append" || a.record;
  if (record && srv_.recorder()) entry.recording = srv_.recorder()(home_, key, app_name_, r.name, r.type == "append");
  core_.publish_started(r);
  metrics.add(srv_.metrics().publishes);
  log::info("rtmp conn={} {}: publishing '{}' ({})", conn_.id(), conn_.peer(), key, r.type);
}

asio::awaitable<void> session::on_play(const play_request& r) {
  const auto& a = app_->config;
  if (const char* refusal = co_await refusal_for(false, r.stream_id, r.name, r.query)) {
    core_.play_failed(r, "NetStream.Play.Failed", refusal);
    refused("play", r.name, refusal);
    co_return;
  }
  auto& metrics = conn_.home().metrics();
  if (auto vod = srv_.vod_path(app_name_, r.name)) {
    if (const char* refusal = vod_refusal(vod->token, r.query)) {
      core_.play_failed(r, "NetStream.Play.Failed", refusal);
      refused("play", r.name, refusal);
      co_return;
    }
    co_await play_recorded(r, vod->path);
    co_return;
  }
  auto key = key_of(r.name);
  if (!a.idle_streams && !srv_.hub().live_here(key) && !co_await srv_.hub().is_published(key)) {
    core_.play_failed(r, "NetStream.Play.StreamNotFound", r.name + " is not published");
    metrics.add(srv_.metrics().refusals);
    co_return;
  }
  close_stream(r.stream_id);  // a second play on a stream replaces the first (play lists)
  core_.play_started(r);
  flush();  // the status messages go before the first frame
  auto p = std::make_unique<player>(*this, r.stream_id, r.name, key);
  auto& ref = *p;
  playing_[r.stream_id] = std::move(p);
  srv_.hub().subscribe(key, ref);
  metrics.add(srv_.metrics().plays);
  log::info("rtmp conn={} {}: playing '{}'", conn_.id(), conn_.peer(), key);
}

asio::awaitable<void> session::play_recorded(const play_request& r, const std::string& path) {
  close_stream(r.stream_id);
  std::shared_ptr<vod_player> vod;
  if (!path.empty() && srv_.workers()) vod = co_await vod_player::open(home_, *this, r.stream_id, r.name, path, *srv_.workers());
  if (!vod) {
    core_.play_failed(r, "NetStream.Play.StreamNotFound", "no recording named " + r.name);
    conn_.home().metrics().add(srv_.metrics().refusals);
    co_return;
  }
  core_.play_started(r);
  flush();
  vods_[r.stream_id] = vod;
  vod->start(r.start);
  conn_.home().metrics().add(srv_.metrics().plays);
  log::info("rtmp conn={} {}: playing the recording '{}' ({} ms)", conn_.id(), conn_.peer(), r.name,
            vod->duration_ms());
}

void session::on_media(const media_message& m) {
  auto it = publishing_.find(m.m.stream_id);
  if (it == publishing_.end()) return;  // media on a stream that does not publish: ignored
  conn_.home().metrics().add(srv_.metrics().frames_in);
  it->second.handle->push(media::make_frame(static_cast<media::track>(m.m.type), m.m.timestamp, m.m.payload));
}

void session::close_stream(std::uint32_t stream_id) {
  if (auto it = publishing_.find(stream_id); it != publishing_.end()) {
    log::info("rtmp conn={} {}: unpublished '{}'", conn_.id(), conn_.peer(), it->second.key);
    core_.publish_stopped(stream_id, it->second.name);
    notify_done(it->second.name, true);
    publishing_.erase(it);
  }
  if (auto it = playing_.find(stream_id); it != playing_.end()) {
    srv_.hub().unsubscribe(it->second->key(), *it->second);
    notify_done(it->second->name(), false);
    playing_.erase(it);
  }
  if (auto it = vods_.find(stream_id); it != vods_.end()) {
    it->second->stop();
    vods_.erase(it);
  }
}

void session::on_call(const server_call& c) {
  if (app_handler::call_answer answer; handler_ && handler_->on_call(c.cmd, answer)) {
    if (answer.result) core_.call_result(c.cmd, *answer.result);
    else core_.call_error(c.cmd, "NetConnection.Call.Failed", answer.error);
    return;
  }
  if (const auto* method = srv_.method(c.cmd.name)) {
    if (auto result = (*method)(c.cmd)) core_.call_result(c.cmd, *result);
    else core_.call_error(c.cmd, "NetConnection.Call.Failed", "the method failed");
    return;
  }
  core_.call_error(c.cmd, "NetConnection.Call.Failed", "Method not found (" + c.cmd.name + ").");
}

// Hooks (hooks.hpp) ----------------------------------------------------------------------------

hook_client session::hook_client_info() const {
  return {conn_.id(), peer_.to_string(), std::string{conn_.peer()}, app_name_, tc_url_};
}

asio::awaitable<bool> session::ask_hook(const std::string& url, const char* action, std::string_view name,
                                        std::string_view query) {
  co_return co_await rtmp::ask_hook(url, action, hook_client_info(), name, query, app_->config.hook_timeout);
}

void session::notify_done(std::string_view name, bool publisher) {
  if (!app_) return;
  rtmp::notify_done(home_.context(), app_->config.on_done, hook_client_info(), name, publisher,
                    app_->config.hook_timeout);
}

// Writing ------------------------------------------------------------------------------------

void session::flush() {
  if (!core_.has_output()) return;
  queue_.push_control(shared_buffer::copy_of(core_.take_output()));
  wake();
}

void session::enqueue_media(shared_buffer bytes, const media::frame& f) {
  auto& metrics = conn_.home().metrics();
  const auto skips = queue_.skips();
  const auto size = bytes.size();
  const auto queued = queue_.bytes();
  if (queue_.push_media(std::move(bytes), f)) {
    metrics.add(srv_.metrics().bytes_relayed, size);
    wake();
    return;
  }
  metrics.add(srv_.metrics().dropped_frames);
  if (queue_.skips() != skips) {
    metrics.add(srv_.metrics().player_skips);
    log::throttled(log::level::info, "rtmp player skip",
                   "rtmp conn={} {}: player too slow, {} bytes queued: skipping to the next keyframe", conn_.id(),
                   conn_.peer(), queued);
  }
}

asio::awaitable<void> session::write_loop() {
  std::vector<shared_buffer> batch;
  std::vector<asio::const_buffer> gather;
  while (!stopping_) {
    if (queue_.empty()) {
      if (finishing_) {
        stop("closed after refusal");
        break;
      }
      wake_.expires_at(clock::time_point::max());
      writer_asleep_ = true;
      co_await wake_.async_wait(no_throw);
      writer_asleep_ = false;
      continue;
    }
    batch.clear();
    gather.clear();
    queue_.take(batch, write_batch_bytes);
    for (const auto& b : batch) gather.emplace_back(b.data(), b.size());
    writing_ = true;
    write_started_ = clock::now();
    auto [ec, n] = co_await stream_->write(gather);
    writing_ = false;
    conn_.sent(n);
    if (ec) {
      stop(fmt::format("write failed: {}", ec.message()));
      break;
    }
  }
}

// Deadlines ----------------------------------------------------------------------------------

asio::awaitable<void> session::watchdog() {
  const auto tick = std::clamp(std::min({cfg_.ping_interval, cfg_.send_timeout, cfg_.handshake_timeout}) / 4,
                               std::chrono::milliseconds{100}, std::chrono::milliseconds{5000});
  while (!stopping_) {
    tick_.expires_at(aligned_deadline(clock::now(), tick));  // with the shard's other sessions
    co_await tick_.async_wait(no_throw);
    if (stopping_) break;
    const auto now = clock::now();
    if (!handshaken_ && now - started_ > cfg_.handshake_timeout) {
      time_out("handshake not completed in time");
      break;
    }
    if (writing_ && now - write_started_ > cfg_.send_timeout) {
      time_out("the client stopped reading (send timeout)");
      break;
    }
    if (now - last_read_ > cfg_.idle_timeout) {
      time_out("nothing received in idle_timeout");
      break;
    }
    // A peer that begins messages and never finishes them holds their memory: a message must
    // arrive whole within incomplete_message_timeout, however busy the connection otherwise is.
    if (auto oldest = core_.oldest_incomplete(); oldest && now - *oldest > cfg_.incomplete_message_timeout) {
      time_out("a message stayed incomplete for incomplete_message_timeout");
      break;
    }
    if (core_.connected() && now - last_read_ >= cfg_.ping_interval &&
        now - last_ping_ >= cfg_.ping_interval) {
      last_ping_ = now;
      core_.ping(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(now - started_).count()));
      flush();
    }
    if (app_ && app_->config.publisher_wait.count() > 0)
      for (const auto& [id, p] : playing_)
        if (auto since = p->orphaned_since(); since && now - *since > app_->config.publisher_wait) {
          stop(fmt::format("'{}' was not published again within publisher_wait", p->key()));
          co_return;
        }
  }
}

void session::finish(std::string_view why) {
  if (finishing_ || stopping_) return;
  // Refusals and protocol errors are a peer's to cause at will: throttled.
  log::throttled(log::level::info, "rtmp session end", "rtmp conn={} {}: {}", conn_.id(), conn_.peer(), why);
  finishing_ = true;
  flush();
  wake();
  if (queue_.empty() && !writing_) stop("finished");
}

// A deadline passed: worth an info line, unlike an ordinary close.
void session::time_out(std::string_view why) {
  conn_.count_timeout();
  log::throttled(log::level::info, "rtmp timeout", "rtmp conn={} {}: {}", conn_.id(), conn_.peer(), why);
  stop(why);
}

void session::stop(std::string_view why) {
  if (stopping_) return;
  stopping_ = true;
  log::debug("rtmp conn={} {}: closing: {}", conn_.id(), conn_.peer(), why);
  stream_->shutdown();
  wake_.cancel();
  merge_cancel_.emit(asio::cancellation_type::all);
  tick_.cancel();
}

asio::awaitable<void> run_session(server& srv, shard& home, asio::ip::tcp::socket socket,
                                  connection_ticket ticket, bool tls) {
  asio::ip::address address;
  auto peer = peer_of(socket, address);
  socket.set_option(asio::ip::tcp::no_delay{true});
  const auto settings = srv.settings();  // held until the session has its own copy
  if (const auto bytes = settings->config.send_buffer) {
    boost::system::error_code ec;  // a kernel that refuses keeps its own size: not worth a close
    socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(bytes)), ec);
  }
  auto stream = tls ? make_tls_stream(std::move(socket), *settings->tls) : make_plain_stream(std::move(socket));
  auto* raw = stream.get();
  // Closed from outside (a drain, the admin API): the session stops itself, which also wakes a
  // publisher waiting for the merge tick (a long rtmp.merge_write must not hold the drain).
  session* running = nullptr;
  connection conn{home, std::move(ticket), tls ? srv.metrics().tls : srv.metrics().plain,
                  tls ? "rtmps" : "rtmp", std::move(peer), [raw, &running] {
                    if (running) running->close_from_outside();
                    else raw->shutdown();
                  }};
  session s{srv, home, std::move(stream), conn, address};
  running = &s;
  co_await s.run();
  running = nullptr;
}

}  // namespace

void start_session(server& srv, shard& home, asio::ip::tcp::socket socket, connection_ticket ticket,
                   bool tls) {
  asio::co_spawn(home.context(), run_session(srv, home, std::move(socket), std::move(ticket), tls),
                 log_failure{"rtmp session"});
}

}  // namespace junction::rtmp
