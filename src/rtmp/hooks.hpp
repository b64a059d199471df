#pragma once
// The HTTP hooks of an RTMP application (rtmp.app on_connect, on_publish, on_play, on_done), as
// nginx-rtmp's on_* callbacks: one JSON POST per event. A 2xx answer allows; anything else,
// a timeout or a failure refuses.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

namespace junction::rtmp {

// Who the hook is asked about.
struct hook_client {
  std::uint64_t id = 0;  // the connection
  std::string ip, peer;  // "192.0.2.1" and, for the log, "192.0.2.1:50000"
  std::string app, tc_url;
  std::string protocol = "rtmp";  // "rtmp", "http-flv", "whip", "whep"
};

// Asks `url` about `action` ("on_connect", "on_publish", "on_play"); true when there is no hook
// (empty url) or it answered 2xx.
boost::asio::awaitable<bool> ask_hook(const std::string& url, const char* action, const hook_client& client,
                                      std::string_view name, std::string_view query, std::chrono::milliseconds timeout);

// Tells `url` a publisher (on_unpublish) or player (on_stop) is done: a notice nobody waits for
// (the session may be gone when it completes).
void notify_done(boost::asio::io_context& io, const std::string& url, const hook_client& client, std::string_view name,
                 bool publisher, std::chrono::milliseconds timeout);

}  // namespace junction::rtmp
