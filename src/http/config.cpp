#include "http/config.hpp"

namespace junction {

void read_config(config_section& http, http_config& h) {
  http.addresses("listen", h.listen, &h.listen_given);
  http.addresses("tls_listen", h.tls_listen);
  http.string("tls_certificate", h.tls_certificate);
  http.string("tls_private_key", h.tls_private_key);
  read_tls_options(http, "http", h.tls);
  http.string("web_root", h.web_root);
  http.string("index", h.index);
  http.integer("header_limit", h.header_limit, 512, 1 << 20);
  http.integer("body_limit", h.body_limit, 0, std::int64_t{1} << 32);
  http.duration("header_timeout", h.header_timeout);
  http.duration("idle_timeout", h.idle_timeout);
  http.string("access_log", h.access_log);
  http.string("admin_token", h.admin_token);
  http.integer("file_cache_max_file", h.file_cache_max_file, 0, 64 << 20);
  http.integer("file_cache_max_bytes", h.file_cache_max_bytes, 0, std::int64_t{1} << 34);
  http.integer("websocket_message_limit", h.websocket_message_limit, 1, 64 << 20);
  http.boolean("websocket_echo", h.websocket_echo);
  http.finish();
  if (!h.tls_listen.empty() && (h.tls_certificate.empty() || h.tls_private_key.empty()))
    http.fail("http.tls_listen needs http.tls_certificate and http.tls_private_key");
}

}  // namespace junction
