#pragma once
// Junction's configuration: one TOML file, every key documented in conf/junction.toml with its
// default. Without a file, the defaults are a complete, working set-up on localhost.
#include "core/endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace junction {

// "file:line:column: message" for the first problem found.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct server_config {
  unsigned shards = 0;  // 0: one per CPU
  bool pin_cpus = true;
  bool listen_all = false;  // default listeners bind every address instead of loopback
  std::size_t max_connections = 10000;
  // Connections one source (an IPv4 address, an IPv6 /64) may hold at once; 0: no limit.
  std::size_t max_connections_per_source = 256;
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::string log_level = "info";
  std::string log_file;  // empty: standard error
};

struct http_config {
  std::vector<listen_address> listen{{"127.0.0.1", 8080}};
  std::vector<listen_address> tls_listen;
  std::string tls_certificate;
  std::string tls_private_key;
  std::string web_root = "conf/www";
  std::string index = "index.html";
  std::size_t header_limit = 8192;
  std::size_t body_limit = 1 << 20;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::string access_log = "-";  // "-": standard output; empty: off
  std::string admin_token;       // empty: admin endpoints answer only on loopback
  std::size_t file_cache_max_file = 256 * 1024;
  std::size_t file_cache_max_bytes = 32 << 20;  // per shard
  std::size_t websocket_message_limit = 1 << 20;
  bool websocket_echo = false;
  bool listen_given = false;  // set when the file names `listen` (so --listen-all leaves it)
};

// One RTMP application ("live" in rtmp://host/live/stream): who may publish and play, and how.
struct rtmp_app_config {
  std::string name = "*";  // "*": any application name without an entry of its own
  bool live = true;        // publish/play live streams; false refuses both
  bool gop_cache = true;   // late joiners start at the latest keyframe
  std::size_t gop_cache_max_bytes = 16 << 20;
  bool takeover = false;   // a second publisher evicts the first instead of getting BadName
  bool idle_streams = true;  // players of an unpublished stream wait (false: StreamNotFound)
  bool record = false;       // record every publication (as publish type "record" does)
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
  std::chrono::milliseconds merge_write{0};        // read publishers once per window: one write per player
  bool http_flv = true;                            // GET /<app>/<stream>.flv on the HTTP listeners
  std::vector<rtmp_app_config> apps{rtmp_app_config{}};
  bool listen_given = false;
  friend bool operator==(const rtmp_config&, const rtmp_config&) = default;
};

struct sip_config {
  std::vector<listen_address> listen{{"127.0.0.1", 5060}};  // UDP and TCP, per shard
  std::vector<listen_address> tls_listen;                   // SIP over TLS
  std::string tls_certificate;
  std::string tls_private_key;
  bool websocket = true;  // SIP over WebSocket (RFC 7118) at /sip on the HTTP listeners
  std::chrono::milliseconds tcp_idle_timeout{600'000};
  // A message begun on a stream must be complete within this (slow-drip and stalled peers).
  std::chrono::milliseconds tcp_message_timeout{10'000};
  // A new TCP/TLS connection must finish its TLS handshake and send a whole first message within
  // this (idle connections held to exhaust the server are closed).
  std::chrono::milliseconds tcp_first_message_timeout{10'000};
  // The domains this server is the registrar and proxy for (Request-URI and To hosts).
  std::vector<std::string> domains{"localhost", "127.0.0.1"};
  std::size_t max_message_size = 65535;
  std::size_t max_header_fields = 128;
  unsigned min_expires = 60;      // shorter registrations get 423 with Min-Expires
  unsigned max_expires = 3600;    // longer ones are cut to this
  unsigned default_expires = 3600;
  unsigned max_bindings_per_aor = 10;  // more get 503: each binding is a branch of every request
  // Datagrams one source address may send per second before the rest are dropped and counted;
  // 0 turns the limit off.
  unsigned udp_rate_limit = 200;
  // REGISTER needs digest authentication against the user store (users.database).
  bool authenticate = true;
  std::chrono::milliseconds nonce_lifetime{300'000};
  // Failed digest logins a source address may make (a user: four times as many) before each
  // further one locks it out for a delay that doubles up to auth_lockout_max.
  unsigned auth_failures_allowed = 10;
  std::chrono::seconds auth_lockout_max{300};
  std::vector<std::string> digest_algorithms{"SHA-256", "MD5"};  // challenge order
  // Who may watch a user's presence: "contacts" (the user, and the addresses on the user's
  // contact list in the user store) or "open" (anyone).
  std::string presence_authorization = "contacts";
  // Requests for other domains: "refuse" (403, no open relay) or "authenticated" (a local user
  // who answers a 407 digest challenge may call out; the request goes to the Request-URI's host).
  std::string outbound = "refuse";
  // Media anchoring: the proxy points both phones' SDP at Junction and relays their RTP, so that
  // the call's media goes through here (src/sip/media_relay.hpp).
  bool anchor_media = false;
  std::string anchor_address;  // where relays bind and what the SDP says; empty: the first listen host
  std::chrono::milliseconds media_timeout{30'000};  // a relay nobody sends through this long is closed
  // Transaction timers (RFC 3261 §17): RTT estimate, retransmit cap, network lifetime.
  std::chrono::milliseconds t1{500}, t2{4000}, t4{5000};
  bool listen_given = false;
  friend bool operator==(const sip_config&, const sip_config&) = default;
};

struct users_config {
  // SQLite file holding the users every protocol authenticates (derived secrets only).
  std::string database = "junction-users.sqlite";
  friend bool operator==(const users_config&, const users_config&) = default;
};

// The Flash<->SIP gateway (docs/gateway.md): the RTMP application siprtmp clients connect to,
// and its calls' media.
struct gateway_config {
  bool enabled = true;
  std::string app = "sip";        // rtmp://host/<app>/<user>@<domain>
  // Where RTP sockets bind and what SDP's c= line says; empty: the first SIP listen address
  // (127.0.0.1 when that is a wildcard).
  std::string media_address;
  unsigned register_expires = 300;                 // asked for when registering a user
  std::chrono::milliseconds ring_timeout{60'000};  // an unanswered outgoing call is cancelled
  std::chrono::milliseconds rtp_timeout{30'000};   // no RTP from the phone this long: hang up
  unsigned transcode_threads = 0;                  // 0: one per core
  // SDES-SRTP (RFC 4568): "off", "answer" (when a phone offers it), "offer" (our offers too),
  // "required" (plain RTP refused).
  std::string srtp = "answer";
  friend bool operator==(const gateway_config&, const gateway_config&) = default;
};

// Recordings: gateway calls and RTMP streams as FLV files, listed at /api/v1/recordings,
// downloaded from /recordings/<id>.flv, played back over RTMP from the VOD application.
struct recording_config {
  std::string directory = "recordings";  // relative to the configuration file's folder
  std::string calls = "off";             // "off", "all", or "users" (the gateway users listed)
  std::vector<std::string> users;        // user@domain of gateway lines whose calls are recorded
  std::string vod_app = "vod";           // rtmp://host/<vod_app>/<recording id> plays one
  friend bool operator==(const recording_config&, const recording_config&) = default;
};

struct config {
  server_config server;
  http_config http;
  rtmp_config rtmp;
  sip_config sip;
  users_config users;
  gateway_config gateway;
  recording_config recording;
  std::string source = "(built-in defaults)";

  // Reads and validates a TOML file; relative paths in it are taken from the file's folder.
  // Throws config_error. `defaulted`, when given, receives every key the file left out.
  static config load_file(const std::string& path, std::vector<std::string>* defaulted = nullptr);
  static config load_string(std::string_view toml, const std::string& name,
                            std::vector<std::string>* defaulted = nullptr);

  // Binds the listeners the file did not name on every address instead of loopback.
  void apply_listen_all();
};

}  // namespace junction
