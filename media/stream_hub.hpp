#pragma once
// The live stream hub: carries frames from each publisher to every sink of its stream, on every
// shard, sharing nothing mutable between shards.
//
// A stream lives on its publisher's shard (the origin). Each shard keeps one local stream per
// name it serves: the sinks there, and a GOP cache of its own so late joiners start without a
// cross-shard round trip. The origin posts each frame once to every other shard that has sinks;
// that shard serves its own sinks. A directory entry for each name lives on the name's home shard
// (hash of the name): it records which shard publishes and which shards are waiting, so a second
// publisher is refused on any shard and waiting players learn when a publisher appears.
//
// Every call below is made on the caller's shard thread.
#include "core/sharded.hpp"
#include "media/frame.hpp"
#include "media/gop_cache.hpp"
#include "media/sink.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace junction {
class runtime;
}

namespace junction::media {

class stream_hub;

// Who publishes, for the API.
struct publisher_info {
  std::string protocol;  // "rtmp", "rtp", "file"
  std::string address;   // peer address
  std::uint64_t connection_id = 0;
};

struct publish_options {
  bool takeover = false;  // evict a current publisher instead of being refused
  gop_cache_options gop;
};

// The right to push frames into one stream, held by one source on its shard. Destroying it ends
// the publication: sinks everywhere get on_stop.
class publication {
 public:
  publication(const publication&) = delete;
  publication& operator=(const publication&) = delete;
  ~publication();

  const std::string& key() const noexcept { return key_; }
  void push(frame f);
  // Called when another publisher took the stream over (publish_options::takeover): the source
  // should close. The publication is already detached when this runs.
  void on_evicted(std::function<void()> handler) { on_evicted_ = std::move(handler); }
  // Called (on this shard) when a player asks for a keyframe (stream_hub::request_keyframe). A
  // source that can make one on demand (a WebRTC publisher asks its browser) sets it; RTMP
  // publishers cannot, and players wait for their next keyframe.
  void on_keyframe_request(std::function<void()> handler) { on_keyframe_request_ = std::move(handler); }
  // Whether anyone takes the stream now: a sink on any shard (a player, a recording, a WHEP
  // feed). A source that has to transcode for its consumers does it only then.
  bool demanded() const noexcept { return demanded_; }
  // Called (on this shard) when that changes; not for the state at the time it is set.
  void on_demand(std::function<void(bool)> handler) { on_demand_ = std::move(handler); }

 private:
  friend class stream_hub;
  publication(stream_hub& hub, std::string key, std::uint64_t claim)
      : hub_{&hub}, key_{std::move(key)}, claim_{claim} {}
  stream_hub* hub_;
  std::string key_;
  std::uint64_t claim_;  // which claim of the name this is (the directory counts them)
  bool attached_ = true;
  bool demanded_ = false;
  std::function<void()> on_evicted_;
  std::function<void(bool)> on_demand_;
  std::function<void()> on_keyframe_request_;
};

enum class publish_refusal { none, already_publishing };

struct publish_result {
  std::unique_ptr<publication> handle;  // null when refused
  publish_refusal refusal = publish_refusal::none;
};

// One stream as the API shows it, merged from every shard.
struct stream_summary {
  std::string key;
  bool live = false;
  std::string video_codec, audio_codec;
  unsigned width = 0, height = 0;  // the picture, from the last H.264 sequence header (0: unknown)
  publisher_info publisher;
  std::uint64_t bytes_in = 0;
  double bitrate_kbps = 0;  // since the publisher started
  std::chrono::seconds uptime{0};
  std::size_t sinks = 0;    // players on every shard
};

class stream_hub {
 public:
  explicit stream_hub(runtime& rt);
  stream_hub(const stream_hub&) = delete;
  stream_hub& operator=(const stream_hub&) = delete;
  ~stream_hub();

  // Claims `key` for the calling source. Refused when another source publishes it, unless
  // options.takeover.
  boost::asio::awaitable<publish_result> publish(std::string key, publish_options options,
                                                 publisher_info who);

  // Adds a sink for `key`. If the stream is live (here or on another shard) the sink gets
  // on_start and the cached frames, now or after one cross-shard hop; otherwise it waits.
  void subscribe(const std::string& key, sink& s);
  void unsubscribe(const std::string& key, sink& s);
  // Asks the stream's publisher for a keyframe, on whichever shard it publishes from (a player
  // lost its picture, or joins a stream whose last keyframe is long past). Nothing happens for a
  // stream not live here or whose publisher cannot make one.
  void request_keyframe(const std::string& key);
  // Whether the stream is live as far as this shard knows now (false while a remote answer is
  // on its way).
  bool live_here(const std::string& key) const;

  // Once the shards have stopped: publications and subscriptions still held by sessions being
  // torn down become no-ops.
  void close() noexcept { closed_ = true; }

  // Whether anyone publishes `key` now (asks the name's home shard).
  boost::asio::awaitable<bool> is_published(const std::string& key);

  // Streams on every shard, merged by name.
  boost::asio::awaitable<std::vector<stream_summary>> list();

 private:
  friend class publication;
  struct shard_state;
  struct local_stream;
  shard_state& here() const;
  shard_state& on(unsigned shard) const;
  unsigned home_of(std::string_view key) const;

  // Messages, each run on the shard named in its comment.
  // The claim's number (never 0), or 0 when refused.
  std::uint64_t claim(const std::string& key, unsigned origin, bool takeover);  // home
  void release(const std::string& key, std::uint64_t claim);      // home
  void watch(const std::string& key, unsigned watcher);           // home
  void unwatch(const std::string& key, unsigned watcher);         // home
  void origin_known(const std::string& key, int origin);          // watcher (-1: none)
  void add_remote(const std::string& key, unsigned shard, std::uint64_t generation);  // origin
  void remove_remote(const std::string& key, unsigned shard);     // origin
  void evict(const std::string& key);                             // old origin
  void keyframe_wanted(const std::string& key);                   // origin
  void remote_start(const std::string& key, std::uint64_t generation,
                    std::vector<frame> snapshot);                // watcher
  void remote_frames(const std::string& key, std::uint64_t generation,
                     std::vector<frame> frames);                            // watcher
  void remote_stop(const std::string& key, std::uint64_t generation);  // watcher

  void unpublish(publication& p);  // origin
  void push(publication& p, frame f);  // origin
  void send_outboxes(const std::string& key);                     // origin
  void send_outboxes(const std::string& key, local_stream& ls);   // origin
  local_stream& local(const std::string& key);
  void maybe_forget(const std::string& key);
  // Tells the origin's publication whether it has consumers now, when that changed.
  void update_demand(local_stream& ls);

  runtime& rt_;
  mutable sharded<shard_state> shards_;  // its state per shard (directory entries, streams)
  bool closed_ = false;
};

}  // namespace junction::media
