#pragma once
// Reloading the configuration while every connection stays (SIGHUP, POST /api/v1/reload): the
// file is read again, and if only keys that can change at run time changed, the new values are
// published to the shards (core/shard_local.hpp); connections keep the settings they began with.
// A file that does not parse, or changes a key that needs a restart (listeners, shards, the user
// store, ...), is refused with a log line naming it, and the running configuration stays.
//
// Reloadable: server.log_level; http.admin_token; rtmp.app (applications, their hooks, tokens,
// allow lists, record), rtmp's limits and timeouts; sip.domains; recording.calls and
// recording.users; every TLS certificate, key, version and cipher setting (the files are read
// again on every reload, so a renewed certificate at the same path is taken too; XMPP's may be
// replaced, not added or removed).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "app/config.hpp"

namespace junction {
class runtime;
namespace http {
class server;
}
namespace rtmp {
class server;
}
namespace sip {
class server;
}
namespace recording {
class service;
}
namespace xmpp {
class server;
}
}  // namespace junction

namespace junction::app {

// What the command line said that overrides the file (and so stays over a reload).
struct command_line_overrides {
  bool listen_all = false;
  unsigned shards = 0;
  std::string log_level;
  void apply(config& cfg) const;
};

struct reload_outcome {
  bool ok = false;
  std::string message;               // for the log and the API
  std::vector<std::string> changed;  // the keys that changed ("rtmp.app", ...)
};

class reloader {
 public:
  struct targets {
    http::server* web = nullptr;
    rtmp::server* rtmp = nullptr;
    sip::server* sip = nullptr;
    recording::service* recordings = nullptr;
    xmpp::server* xmpp = nullptr;
  };
  reloader(runtime& rt, std::string path, command_line_overrides overrides, config current, targets what);

  // On the main thread: reads the file again and applies it, or refuses it.
  reload_outcome reload();

  // POST /api/v1/reload on a shard: asks the main thread (reload_request_signal(), queued with
  // this request's number: real-time signals queue, one per request) and waits for its answer,
  // at most `timeout`.
  boost::asio::awaitable<reload_outcome> request(std::chrono::milliseconds timeout);
  // On the main thread, after reload(): the answer for a request's number (from the signal).
  void answer(int request_number, const reload_outcome& outcome);

 private:
  struct waiter;
  runtime& rt_;
  std::string path_;
  command_line_overrides overrides_;
  config current_;
  std::string current_text_;
  targets targets_;
  // Per shard, the requests waiting on it (only that shard touches its map).
  std::vector<std::map<std::uint32_t, waiter*>> waiting_;
  std::vector<std::uint32_t> next_number_;
};

// The signal the API's requests reach the main thread by (SIGRTMIN).
int reload_request_signal();

// The keys that may change without a restart (as "section.key").
bool reloadable_key(const std::string& key);

}  // namespace junction::app
