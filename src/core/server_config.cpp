#include "core/server_config.hpp"

namespace junction {

void read_config(config_section& server, server_config& s) {
  server.integer("shards", s.shards, 0, 1024);
  server.boolean("pin_cpus", s.pin_cpus);
  server.boolean("listen_all", s.listen_all);
  server.integer("max_connections", s.max_connections, 1, 10'000'000);
  server.integer("max_connections_per_source", s.max_connections_per_source, 0, 10'000'000);
  server.duration("shutdown_timeout", s.shutdown_timeout);
  server.boolean("share_listeners", s.share_listeners);
  server.level("log_level", s.log_level);
  server.string("log_file", s.log_file);
  server.finish();
}

}  // namespace junction
