#pragma once
// [rtmp] and its [[rtmp.app]] entries: listeners, limits, timeouts, per-application rules.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config_section.hpp"
#include "core/tls_options.hpp"
#include "core/endpoint.hpp"

namespace junction {

// One RTMP application ("live" in rtmp://host/live/stream): who may publish and play, and how.
struct rtmp_app_config {
  std::string name = "*";  // "*": any application name without an entry of its own
  bool live = true;        // publish/play live streams; false refuses both
  bool gop_cache = true;   // late joiners start at the latest keyframe
  std::size_t gop_cache_max_bytes = 16 << 20;
  bool takeover = false;   // a second publisher evicts the first instead of getting BadName
  bool idle_streams = true;  // players of an unpublished stream wait (false: StreamNotFound)
  bool record = false;       // record every publication (as publish type "record" does)
  bool low_latency = false;  // publishers are read as data comes, not once per rtmp.merge_write
  std::chrono::milliseconds publisher_wait{0};  // after UnpublishNotify; 0: wait as long as they like
  std::vector<std::string> allow_publish, allow_play;  // CIDR ranges; empty: anyone
  std::string publish_token, play_token;  // required "token=" in the stream name or tcUrl query
  std::string on_connect, on_publish, on_play, on_done;  // HTTP hook URLs
  std::chrono::milliseconds hook_timeout{5'000};
  friend bool operator==(const rtmp_app_config&, const rtmp_app_config&) = default;
};

struct rtmp_config {
  std::vector<listen_address> listen{{"127.0.0.1", 1935}};
  std::vector<listen_address> tls_listen;  // RTMPS
  std::string tls_certificate;
  std::string tls_private_key;
  tls_options tls;  // tls_min_version, tls_max_version, tls_ciphers, tls_ciphersuites
  std::size_t chunk_size = 4096;           // outgoing chunk size
  std::size_t window_ack_size = 2'500'000;
  std::size_t max_message_size = 8 << 20;
  std::size_t max_streams_per_connection = 16;
  // Bytes the incomplete messages of one connection may hold: before it is accepted as a
  // publisher (commands are small), after, and for every connection of the process together.
  std::size_t incomplete_bytes_before_publish = 256 << 10;
  std::size_t incomplete_bytes = 16 << 20;
  std::size_t incomplete_bytes_total = 256 << 20;
  std::chrono::milliseconds incomplete_message_timeout{30'000};  // one message, first byte to last
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds ping_interval{30'000};
  std::chrono::milliseconds idle_timeout{90'000};  // no byte from the client for this long
  std::chrono::milliseconds send_timeout{30'000};  // a player whose socket accepts nothing
  std::size_t player_queue_bytes = 8 << 20;        // beyond this a player skips to a keyframe
  // SO_SNDBUF of each RTMP connection; 0 leaves it to the kernel, which grows it (on loopback
  // to megabytes): what a slow player has not read yet waits there, unseen by the queue above.
  std::size_t send_buffer = 0;
  std::chrono::milliseconds merge_write{200};      // read publishers once per window: one write per player
  bool http_flv = true;                            // GET /<app>/<stream>.flv on the HTTP listeners
  std::vector<rtmp_app_config> apps{rtmp_app_config{}};
  // Applications without an [[rtmp.app]] entry of their own get the built-in "*" entry (live,
  // the defaults) unless the file defines "*" itself; false refuses them.
  bool catch_all = true;
  bool listen_given = false;
  friend bool operator==(const rtmp_config&, const rtmp_config&) = default;
};

void read_config(config_section& s, rtmp_config& out);

}  // namespace junction
