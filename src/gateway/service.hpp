#pragma once
// The gateway as the server runs it: the RTMP application siprtmp clients connect to, the
// transcoding workers every call shares, and what each line needs to know about the SIP side
// (which domains are Junction's own, where its SIP listener is).
#include <cstdint>
#include <map>
#include <memory>
#include <vector>
#include <string>
#include <string_view>
#include <utility>

#include "core/sharded.hpp"
#include "gateway/config.hpp"
#include "sip/config.hpp"
#include "core/metrics.hpp"
#include "gateway/login_guard.hpp"

namespace junction {
class runtime;
}
namespace junction::http {
class server;
}
namespace junction::media {
class stream_hub;
}
namespace junction::rtmp {
class server;
}
namespace junction {
class worker_pool;
}
namespace junction::recording {
class service;
}

namespace junction::gateway {

struct gateway_metrics {
  metric_id lines, registrations_failed, calls, calls_total, calls_failed, rtp_in, rtp_out, dtmf_in, dtmf_out,
      rtp_ports, srtp_calls, srtp_failures;
  static gateway_metrics declare(metric_registry& registry);
};

// What the API sees of a line (on the line's shard).
struct line_summary {
  std::string user;       // user@domain
  std::uint64_t connection = 0;
  unsigned shard = 0;
  std::string state;      // "idle", "calling", "ringing", "in-call"
  std::string peer, call_id, recording;
};

class line_view {
 public:
  virtual ~line_view() = default;
  virtual line_summary summary() const = 0;
  // Records the call now up (or the next one); the recording's id, or empty for the next call.
  virtual std::string record() = 0;
};

class service {
 public:
  // Made before the runtime and destroyed after it, like the stream hub and the worker pool:
  // lines and legs still held by the shards' loops are torn down with the runtime and reach
  // back here.
  service(metric_registry& registry, const gateway_config& cfg, const sip_config& sip, media::stream_hub& hub, worker_pool& workers,
          recording::service& recordings, users::user_directory* users, runtime& rt);
  service(const service&) = delete;
  service& operator=(const service&) = delete;
  ~service();

  // Serves the gateway application (gateway.app) on the RTMP server.
  void attach(rtmp::server& rtmp);
  // GET /api/v1/gateway/lines and POST /api/v1/gateway/lines/<user@domain>/record.
  void attach(http::server& web, runtime& rt);
  // Lines as the API finds them; called on the line's shard only.
  void add_line(unsigned shard, const std::string& user, std::weak_ptr<line_view> line);
  void remove_line(unsigned shard, const std::string& user, const line_view* line);

  const gateway_config& settings() const noexcept { return cfg_; }
  const sip_config& sip() const noexcept { return sip_; }
  bool is_local_domain(std::string_view domain) const;
  // Junction's own SIP listener, where lines of local users register and send their calls.
  std::pair<std::string, std::uint16_t> sip_server() const { return sip_server_; }
  // The UDP address the SIP server bound (its port may have been 0 in the configuration).
  void set_sip_server(std::string host, std::uint16_t port);
  // The address RTP and the lines' SIP sockets bind to (and SDP and Via name).
  const std::string& media_address() const noexcept { return media_address_; }
  media::stream_hub& hub() noexcept { return hub_; }
  worker_pool& workers() noexcept { return workers_; }
  recording::service& recordings() noexcept { return recordings_; }
  const gateway_metrics& metrics() const noexcept { return metrics_; }
  login_guard& logins() noexcept { return logins_; }

 private:
  gateway_config cfg_;
  sip_config sip_;  // the SIP server's: domains, listen address, timers
  media::stream_hub& hub_;
  gateway_metrics metrics_;
  std::string media_address_;
  std::pair<std::string, std::uint16_t> sip_server_{"127.0.0.1", 5060};
  worker_pool& workers_;
  recording::service& recordings_;
  login_guard logins_;
  // Per shard (touched by that shard's thread only): user -> lines. A user may log in more than
  // once (each connection its own line, binding and call).
  // The lines open on each shard, by user@domain.
  using line_registry = std::multimap<std::string, std::weak_ptr<line_view>, std::less<>>;
  sharded<line_registry> lines_;
};

}  // namespace junction::gateway
