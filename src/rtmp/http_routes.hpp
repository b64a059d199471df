#pragma once
// What the RTMP server adds to the HTTP server.
namespace junction::http {
class server;
}

namespace junction::rtmp {

class server;

// GET /<app>/<stream>.flv: the live stream as HTTP-FLV.
void add_http_flv_route(server& srv, http::server& web);
// GET /api/v1/streams (admin): live streams on every shard; DELETE /api/v1/streams/<app>/<name>
// (admin) closes the stream's publisher.
void add_stream_api(server& srv, http::server& web);

}  // namespace junction::rtmp
