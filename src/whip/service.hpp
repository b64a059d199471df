#pragma once
// WHIP (RFC 9725) and WHEP on the HTTP listeners: browsers (and any WHIP/WHEP client) publish a
// stream over WebRTC and play one, on the same <app>/<stream> names as RTMP.
//
//   POST /<app>/<stream>/whip    application/sdp offer in; 201 Created with the answer, a
//   POST /<app>/<stream>/whep    Location (/webrtc/sessions/<id>) and an ETag out
//   PATCH  /webrtc/sessions/<id> trickled candidates (204: an ICE-lite server needs none)
//   DELETE /webrtc/sessions/<id> ends the session
//
// Who may publish and play is the RTMP application's to say, as for RTMP and HTTP-FLV: its
// address ranges, its publish_token / play_token (as "Authorization: Bearer <token>", or
// ?token=), its on_publish / on_play hooks. An application that does not exist or is not live
// gets 404, and so does a WHEP offer for a stream nobody publishes. A session lives on the shard
// whose HTTP connection made it, and its candidates name that shard's WebRTC port.
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/sharded.hpp"
#include "http/message.hpp"
#include "whip/session.hpp"

namespace junction {
class runtime;
class worker_pool;
}
namespace junction::http {
class server;
class request_context;
}
namespace junction::media {
class stream_hub;
}
namespace junction::rtmp {
class server;
}
namespace junction::webrtc {
class shard_ports;
}

namespace junction::whip {

class service {
 public:
  service(runtime& rt, webrtc::shard_ports& ports, rtmp::server& rtmp, media::stream_hub& hub, worker_pool& workers);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  void attach(http::server& web);

 private:
  struct shard_state;
  boost::asio::awaitable<http::reply> offer(http::request_context& ctx, bool publish);
  boost::asio::awaitable<http::reply> on_session(http::request_context& ctx);

  runtime& rt_;
  webrtc::shard_ports& ports_;
  rtmp::server& rtmp_;
  media::stream_hub& hub_;
  worker_pool& workers_;
  session_metrics metrics_;
  sharded<shard_state> shards_;
};

}  // namespace junction::whip
