#include "media/stream_hub.hpp"

#include "core/cross_shard.hpp"
#include "core/runtime.hpp"
#include "media/h264/sps.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <utility>

namespace junction::media {

// One stream as one shard serves it. On the origin shard it also holds the publisher and the
// other shards it forwards to; on any other shard it relays what the origin sends.
struct stream_hub::local_stream {
  std::vector<sink*> sinks;
  bool dispatching = false;  // sinks may leave while being called: their slot is nulled
  bool live = false;
  gop_cache cache;

  // Origin role.
  publication* publisher = nullptr;
  publisher_info who;
  std::chrono::steady_clock::time_point started;
  std::uint64_t bytes_in = 0;
  codec video = codec::unknown, audio = codec::unknown;
  h264::picture_size picture;
  struct remote {
    unsigned shard;
    std::uint64_t generation;
    std::vector<frame> outbox;  // pushed, not yet posted to that shard
  };
  std::vector<remote> remotes;
  bool outbox_posted = false;  // a send_outboxes is queued on this shard

  // Relay role: the shard frames come from, and which subscription of ours they answer (frames
  // of an older subscription still in flight are dropped).
  int origin = -1;
  std::uint64_t generation = 0;
  bool watching = false;

  template <class F>
  void each_sink(F&& f) {
    dispatching = true;
    for (std::size_t i = 0; i < sinks.size(); ++i)
      if (sinks[i]) f(*sinks[i]);
    dispatching = false;
    std::erase(sinks, nullptr);
  }
  void deliver(const shard_frame_ptr& f) {
    cache.add(f);
    each_sink([&](sink& s) { s.on_frame(f); });
  }
  void start() {
    live = true;
    each_sink([&](sink& s) { s.on_start(); });
  }
  void stop() {
    live = false;
    cache.clear();
    each_sink([&](sink& s) { s.on_stop(); });
  }
  bool has_sinks() const {
    return std::any_of(sinks.begin(), sinks.end(), [](sink* s) { return s != nullptr; });
  }
};

struct stream_hub::shard_state {
  std::unordered_map<std::string, std::unique_ptr<local_stream>> streams;
  // Names whose home is this shard.
  struct entry {
    int publisher = -1;
    std::uint64_t claim = 0;  // the current publisher's claim
    std::vector<unsigned> watchers;
  };
  std::unordered_map<std::string, entry> directory;
  std::uint64_t claims = 0;  // claims made here, of any name: each gets the next number
};

stream_hub::stream_hub(runtime& rt) : rt_{rt}, shards_{rt} {}
stream_hub::~stream_hub() = default;

stream_hub::shard_state& stream_hub::here() const { return shards_.local(); }
stream_hub::shard_state& stream_hub::on(unsigned s) const { return shards_.at(s); }
unsigned stream_hub::home_of(std::string_view key) const {
  return static_cast<unsigned>(std::hash<std::string_view>{}(key) % shards_.size());
}

stream_hub::local_stream& stream_hub::local(const std::string& key) {
  auto& slot = here().streams[key];
  if (!slot) slot = std::make_unique<local_stream>();
  return *slot;
}

// Publishing ---------------------------------------------------------------------------------

boost::asio::awaitable<publish_result> stream_hub::publish(std::string key, publish_options options,
                                                           publisher_info who) {
  const unsigned me = shard::current()->index();
  const std::uint64_t claimed =
      co_await invoke_on(rt_.at(home_of(key)), [this, &key, me, takeover = options.takeover] {
        return claim(key, me, takeover);
      });
  if (claimed == 0) co_return publish_result{nullptr, publish_refusal::already_publishing};

  std::unique_ptr<publication> handle{new publication{*this, key, claimed}};
  auto& ls = local(key);
  // Taken over from a publisher of this same shard: it is detached here, and the shards the
  // stream is forwarded to stay subscribed (they see the stream go on, from its new source).
  std::function<void()> evicted;
  if (ls.publisher) {
    ls.publisher->attached_ = false;
    evicted = std::move(ls.publisher->on_evicted_);
    send_outboxes(key, ls);  // its last frames go before the restart
  }
  ls.publisher = handle.get();
  ls.who = std::move(who);
  ls.started = std::chrono::steady_clock::now();
  ls.bytes_in = 0;
  ls.video = ls.audio = codec::unknown;
  ls.picture = {};
  ls.cache = gop_cache{options.gop};
  ls.origin = -1;  // we are the origin now; a relay subscription elsewhere is obsolete
  update_demand(ls);
  ls.start();
  for (const auto& r : ls.remotes)
    rt_.post(r.shard, [this, key, g = r.generation] { remote_start(key, g, {}); });
  if (evicted) evicted();
  co_return publish_result{std::move(handle), publish_refusal::none};
}

std::uint64_t stream_hub::claim(const std::string& key, unsigned origin, bool takeover) {
  auto& e = here().directory[key];
  if (e.publisher >= 0 && !takeover) return 0;
  const int previous = e.publisher;
  e.publisher = static_cast<int>(origin);
  // A previous publisher on the claimant's own shard is detached by publish() there: an evict
  // message would race with it and could end the stream for the other shards.
  if (previous >= 0 && previous != static_cast<int>(origin))
    rt_.post(static_cast<unsigned>(previous), [this, key] { evict(key); });
  for (unsigned w : e.watchers)
    rt_.post(w, [this, key, origin] { origin_known(key, static_cast<int>(origin)); });
  e.claim = ++here().claims;
  return e.claim;
}

// A publisher that left; a later claim (a takeover) is not undone by it.
void stream_hub::release(const std::string& key, std::uint64_t claim) {
  auto& dir = here().directory;
  auto it = dir.find(key);
  if (it == dir.end()) return;
  if (it->second.claim == claim) it->second.publisher = -1;
  if (it->second.publisher < 0 && it->second.watchers.empty()) dir.erase(it);
}

void stream_hub::push(publication& p, frame f) {
  auto& ls = local(p.key_);
  ls.bytes_in += f.payload.size();
  if (f.is_video() && f.codec != codec::unknown) ls.video = f.codec;
  if (f.config)
    if (auto size = h264::sequence_header_picture_size(f)) ls.picture = *size;
  if (f.is_audio() && f.codec != codec::unknown) ls.audio = f.codec;
  if (!ls.remotes.empty()) {
    for (auto& r : ls.remotes) r.outbox.push_back(f);
    // Frames pushed by one handler (a merged read pushes a window's worth) go to each other
    // shard in one message, sent once that handler is done: the other shard wakes once for them
    // and its players get them in one write each, as the players here do.
    if (!ls.outbox_posted) {
      ls.outbox_posted = true;
      rt_.post(shard::current()->index(), [this, key = p.key_] { send_outboxes(key); });
    }
  }
  ls.deliver(wrap(std::move(f)));
}

void stream_hub::send_outboxes(const std::string& key) {
  auto it = here().streams.find(key);
  if (it != here().streams.end()) send_outboxes(key, *it->second);
}

void stream_hub::send_outboxes(const std::string& key, local_stream& ls) {
  ls.outbox_posted = false;
  for (auto& r : ls.remotes) {
    if (r.outbox.empty()) continue;
    rt_.post(r.shard, [this, key, g = r.generation, frames = std::exchange(r.outbox, {})]() mutable {
      remote_frames(key, g, std::move(frames));
    });
  }
}

void stream_hub::unpublish(publication& p) {
  auto& ls = local(p.key_);
  if (ls.publisher != &p) return;
  ls.publisher = nullptr;
  p.attached_ = false;
  send_outboxes(p.key_, ls);  // the last frames before the stop
  for (const auto& r : ls.remotes)
    rt_.post(r.shard, [this, key = p.key_, g = r.generation] { remote_stop(key, g); });
  ls.remotes.clear();
  ls.stop();
  rt_.post(home_of(p.key_), [this, key = p.key_, c = p.claim_] { release(key, c); });
  maybe_forget(p.key_);
}

void stream_hub::request_keyframe(const std::string& key) {
  if (closed_) return;
  auto it = here().streams.find(key);
  if (it == here().streams.end() || !it->second->live) return;
  const auto& ls = *it->second;
  if (ls.publisher) {
    keyframe_wanted(key);
  } else if (ls.origin >= 0) {
    rt_.post(static_cast<unsigned>(ls.origin), [this, key] { keyframe_wanted(key); });
  }
}

void stream_hub::keyframe_wanted(const std::string& key) {
  auto it = here().streams.find(key);
  if (it == here().streams.end() || !it->second->publisher) return;
  if (auto& handler = it->second->publisher->on_keyframe_request_) handler();
}

void stream_hub::evict(const std::string& key) {
  auto it = here().streams.find(key);
  if (it == here().streams.end() || !it->second->publisher) return;
  auto& ls = *it->second;
  publication& p = *ls.publisher;
  ls.publisher = nullptr;
  p.attached_ = false;
  send_outboxes(key, ls);
  for (const auto& r : ls.remotes) rt_.post(r.shard, [this, key, g = r.generation] { remote_stop(key, g); });
  ls.remotes.clear();
  ls.stop();
  auto handler = std::move(p.on_evicted_);
  maybe_forget(key);
  if (handler) handler();
}

void stream_hub::add_remote(const std::string& key, unsigned shard, std::uint64_t generation) {
  auto& ls = local(key);
  auto it = std::find_if(ls.remotes.begin(), ls.remotes.end(),
                         [&](const auto& r) { return r.shard == shard; });
  if (it != ls.remotes.end()) {
    it->generation = generation;
    it->outbox.clear();  // the snapshot below holds these frames already
  } else {
    ls.remotes.push_back({shard, generation, {}});
  }
  update_demand(ls);
  if (!ls.publisher) return;  // remote_start goes out when the publisher attaches
  std::vector<frame> snapshot;
  ls.cache.replay([&](const shard_frame_ptr& f) { snapshot.push_back(f->frame()); });
  rt_.post(shard, [this, key, generation, snapshot = std::move(snapshot)]() mutable {
    remote_start(key, generation, std::move(snapshot));
  });
}

void stream_hub::remove_remote(const std::string& key, unsigned shard) {
  auto it = here().streams.find(key);
  if (it == here().streams.end()) return;
  std::erase_if(it->second->remotes, [&](const auto& r) { return r.shard == shard; });
  maybe_forget(key);
}

// Playing ------------------------------------------------------------------------------------

void stream_hub::subscribe(const std::string& key, sink& s) {
  auto& ls = local(key);
  ls.sinks.push_back(&s);
  update_demand(ls);
  if (ls.live) {
    s.on_start();
    ls.cache.replay([&](const shard_frame_ptr& f) { s.on_frame(f); });
  }
  if (!ls.watching) {
    ls.watching = true;
    rt_.post(home_of(key), [this, key, me = shard::current()->index()] { watch(key, me); });
  }
}

void stream_hub::unsubscribe(const std::string& key, sink& s) {
  if (closed_) return;
  auto it = here().streams.find(key);
  if (it == here().streams.end()) return;
  auto& sinks = it->second->sinks;
  auto pos = std::find(sinks.begin(), sinks.end(), &s);
  if (pos == sinks.end()) return;
  if (it->second->dispatching) *pos = nullptr;
  else sinks.erase(pos);
  maybe_forget(key);
}

bool stream_hub::live_here(const std::string& key) const {
  auto it = here().streams.find(key);
  return it != here().streams.end() && it->second->live;
}

void stream_hub::watch(const std::string& key, unsigned watcher) {
  auto& e = here().directory[key];
  if (std::find(e.watchers.begin(), e.watchers.end(), watcher) == e.watchers.end())
    e.watchers.push_back(watcher);
  rt_.post(watcher, [this, key, origin = e.publisher] { origin_known(key, origin); });
}

void stream_hub::unwatch(const std::string& key, unsigned watcher) {
  auto& dir = here().directory;
  auto it = dir.find(key);
  if (it == dir.end()) return;
  std::erase(it->second.watchers, watcher);
  if (it->second.publisher < 0 && it->second.watchers.empty()) dir.erase(it);
}

void stream_hub::origin_known(const std::string& key, int origin) {
  auto it = here().streams.find(key);
  if (it == here().streams.end() || !it->second->watching) return;
  auto& ls = *it->second;
  const int me = static_cast<int>(shard::current()->index());
  if (origin < 0 || origin == me || origin == ls.origin) return;
  if (ls.origin >= 0) {
    rt_.post(static_cast<unsigned>(ls.origin), [this, key, me] { remove_remote(key, me); });
    if (ls.live) ls.stop();
  }
  ls.origin = origin;
  rt_.post(static_cast<unsigned>(origin), [this, key, me, g = ++ls.generation] {
    add_remote(key, static_cast<unsigned>(me), g);
  });
}

void stream_hub::remote_start(const std::string& key, std::uint64_t generation,
                              std::vector<frame> snapshot) {
  auto it = here().streams.find(key);
  if (it == here().streams.end() || it->second->generation != generation || it->second->publisher)
    return;
  auto& ls = *it->second;
  ls.cache.clear();
  ls.start();
  for (auto& f : snapshot) ls.deliver(wrap(std::move(f)));
}

void stream_hub::remote_frames(const std::string& key, std::uint64_t generation,
                               std::vector<frame> frames) {
  auto it = here().streams.find(key);
  if (it == here().streams.end() || it->second->generation != generation || it->second->publisher)
    return;
  // Sinks leaving during a delivery never erase the stream (it is dispatching), but the last of
  // them ends it: check before each frame.
  auto& ls = *it->second;
  for (auto& f : frames) {
    if (!ls.live) return;
    ls.deliver(wrap(std::move(f)));
  }
}

void stream_hub::remote_stop(const std::string& key, std::uint64_t generation) {
  auto it = here().streams.find(key);
  if (it == here().streams.end() || it->second->generation != generation || it->second->publisher)
    return;
  it->second->origin = -1;  // a returning publisher is announced by the directory again
  if (it->second->live) it->second->stop();
}

// Drops a local stream nobody uses any more, and the subscriptions it held elsewhere.
void stream_hub::maybe_forget(const std::string& key) {
  auto it = here().streams.find(key);
  if (it == here().streams.end()) return;
  auto& ls = *it->second;
  update_demand(ls);
  if (ls.has_sinks()) return;
  const unsigned me = shard::current()->index();
  if (ls.watching) {
    ls.watching = false;
    rt_.post(home_of(key), [this, key, me] { unwatch(key, me); });
  }
  if (ls.origin >= 0) {
    rt_.post(static_cast<unsigned>(ls.origin), [this, key, me] { remove_remote(key, me); });
    ls.origin = -1;
    if (!ls.publisher) {
      ls.live = false;
      ls.cache.clear();
    }
  }
  if (!ls.publisher && ls.remotes.empty() && !ls.dispatching) here().streams.erase(it);
}

void stream_hub::update_demand(local_stream& ls) {
  if (!ls.publisher) return;
  const bool now = ls.has_sinks() || !ls.remotes.empty();
  if (now == ls.publisher->demanded_) return;
  ls.publisher->demanded_ = now;
  if (ls.publisher->on_demand_) ls.publisher->on_demand_(now);
}

boost::asio::awaitable<bool> stream_hub::is_published(const std::string& key) {
  co_return co_await invoke_on(rt_.at(home_of(key)), [this, &key] {
    const auto& dir = here().directory;
    auto it = dir.find(key);
    return it != dir.end() && it->second.publisher >= 0;
  });
}

// The API view -------------------------------------------------------------------------------

boost::asio::awaitable<std::vector<stream_summary>> stream_hub::list() {
  std::vector<stream_summary> merged;
  for (unsigned i = 0; i < rt_.size(); ++i) {
    auto part = co_await invoke_on(rt_.at(i), [this, i] {
      std::vector<stream_summary> out;
      const auto now = std::chrono::steady_clock::now();
      for (const auto& [key, ls] : on(i).streams) {
        stream_summary s;
        s.key = key;
        s.sinks = static_cast<std::size_t>(std::count_if(
            ls->sinks.begin(), ls->sinks.end(), [](sink* p) { return p != nullptr; }));
        if (ls->publisher) {
          s.live = true;
          s.publisher = ls->who;
          s.video_codec = ls->video == codec::unknown ? "" : std::string{codec_name(ls->video)};
          s.audio_codec = ls->audio == codec::unknown ? "" : std::string{codec_name(ls->audio)};
          s.width = ls->picture.width;
          s.height = ls->picture.height;
          s.bytes_in = ls->bytes_in;
          auto up = std::chrono::duration<double>(now - ls->started).count();
          s.uptime = std::chrono::duration_cast<std::chrono::seconds>(now - ls->started);
          s.bitrate_kbps = up > 0 ? ls->bytes_in * 8 / 1000.0 / up : 0;
        }
        out.push_back(std::move(s));
      }
      return out;
    });
    for (auto& s : part) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.key == s.key; });
      if (it == merged.end()) {
        merged.push_back(std::move(s));
        continue;
      }
      it->sinks += s.sinks;
      if (s.live) {
        auto sinks = it->sinks;
        *it = std::move(s);
        it->sinks = sinks;
      }
    }
  }
  std::erase_if(merged, [](const auto& s) { return !s.live && s.sinks == 0; });
  co_return merged;
}

// publication --------------------------------------------------------------------------------

publication::~publication() {
  if (attached_ && !hub_->closed_) hub_->unpublish(*this);
}

void publication::push(frame f) {
  if (attached_) hub_->push(*this, std::move(f));
}

}  // namespace junction::media
