#pragma once
// Recordings as the server keeps them: one folder (recording.directory) of FLV files, each with
// a small JSON file beside it saying what it is (a call: its parties; a stream: its name), when
// it started and, once it ended, how long it is. A recording that never ended (the process was
// killed) is listed too: its length is read from the file's last tag.
//
// HTTP: GET /api/v1/recordings lists them, GET /recordings/<id>.flv downloads one (with ranges),
// DELETE /api/v1/recordings/<id> removes one. RTMP: streams published with type "record" or
// "append", or in an application with record = true, are recorded (stream_recorder.hpp).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recording/config.hpp"
#include "core/shard_local.hpp"
#include "core/metrics.hpp"

namespace junction::http {
class server;
}
namespace junction::rtmp {
class server;
}
namespace junction {
class worker_pool;
}
namespace junction::media {
class stream_hub;
}

namespace junction::recording {

struct recording_info {
  std::string id;    // the file name without ".flv"
  std::string kind;  // "call" or "stream"
  std::string call_id, line, from, to;  // calls: the SIP Call-ID, the gateway user, the parties
  std::string stream;                    // streams: "<app>/<name>"
  std::chrono::system_clock::time_point started{};
  std::optional<std::chrono::system_clock::time_point> ended{};
  std::uint32_t duration_ms = 0;
  std::uint64_t size = 0;
};

struct recording_metrics {
  metric_id active, started;
  static recording_metrics declare(metric_registry& registry);
};

class service {
 public:
  // What a reload may change: which calls are recorded, and the token VOD players present.
  struct rules {
    std::string calls;
    std::vector<std::string> users;
    std::string admin_token;
  };
  service(runtime& rt, metric_registry& registry, const recording_config& cfg, std::string admin_token,
          worker_pool& workers);
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // /api/v1/recordings and /recordings/ on the HTTP server.
  void attach(http::server& web);
  // Stream recording (publish type record/append, rtmp.app record) and VOD playback.
  void attach(rtmp::server& rtmp, media::stream_hub& hub);

  const recording_config& settings() const noexcept { return cfg_; }
  const std::string& directory() const noexcept { return cfg_.directory; }
  worker_pool& workers() noexcept { return workers_; }
  const recording_metrics& metrics() const noexcept { return metrics_; }
  bool records_calls_of(std::string_view line) const;
  // A reload of recording.calls, recording.users and http.admin_token (the folder and the VOD
  // application need a restart).
  void reload(const recording_config& cfg, std::string admin_token);

  // Ids cannot be guessed: whoever knows a call or a stream name still cannot name its file.
  // A new call recording's id: "call-<UTC time>-<Call-ID, made safe>-<16 random hex digits>".
  std::string call_recording_id(std::string_view call_id) const;
  // A new recording of a stream: "<app>-<name>-<UTC time to the millisecond>-<16 hex digits of an
  // HMAC of app and name under this installation's secret>", made safe. Every publication of type
  // record gets a file of its own (never one that exists: see recording_file::open), as nginx's
  // record_unique; the digits are the stream's, so append finds its latest file.
  std::string stream_recording_id(std::string_view app, std::string_view name,
                                  std::chrono::system_clock::time_point started) const;
  // The newest recording of a stream in the folder (an id), if any (blocking: on a worker).
  std::optional<std::string> latest_stream_recording(std::string_view app, std::string_view name) const;
  std::string path_of(std::string_view id) const;

  // The JSON beside a recording (blocking file I/O: call it on a worker).
  void write_info(const recording_info& info) const;
  std::vector<recording_info> list() const;
  std::optional<recording_info> find(std::string_view id) const;

 private:
  recording_config cfg_;
  std::string id_secret_;    // recording.directory/.id-secret, made at first start (0600)
  shard_local<rules> rules_;  // calls, users, and http.admin_token: what a VOD player presents
  worker_pool& workers_;
  recording_metrics metrics_;
};

// Only letters, digits, '.', '_' and '-' (anything else becomes '_'), at most 120 characters:
// a name that is safe as a file name and in a URL.
std::string safe_name(std::string_view text);

}  // namespace junction::recording
