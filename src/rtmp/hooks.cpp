#include "rtmp/hooks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "http/client.hpp"

namespace junction::rtmp {
namespace {

namespace asio = boost::asio;

// The notice's coroutine holds what it sends by its parameters (not a lambda's captures: co_spawn
// of lambdas owning memory corrupted the heap with GCC 12).
asio::awaitable<void> send_notice(std::string url, std::string json, std::chrono::milliseconds timeout) {
  auto r = co_await http::post_json(url, json, timeout);
  if (!r.ok()) log::info("rtmp on_done hook {}: {}", url, r.status ? std::to_string(r.status) : r.error);
}

}  // namespace

asio::awaitable<bool> ask_hook(const std::string& url, const char* action, const hook_client& client,
                               std::string_view name, std::string_view query, std::chrono::milliseconds timeout) {
  if (url.empty()) co_return true;
  boost::json::object body{{"action", action}, {"client_id", client.id}, {"ip", client.ip},
                           {"app", client.app},  {"tcUrl", client.tc_url}, {"stream", name},
                           {"param", query}, {"protocol", client.protocol}};
  auto answer = co_await http::post_json(url, boost::json::serialize(body), timeout);
  if (!answer.ok())
    log::info("rtmp conn={} {}: {} hook {} said no: {}", client.id, client.peer, action, url,
              answer.status ? std::to_string(answer.status) : answer.error);
  co_return answer.ok();
}

void notify_done(asio::io_context& io, const std::string& url, const hook_client& client, std::string_view name,
                 bool publisher, std::chrono::milliseconds timeout) {
  if (url.empty()) return;
  boost::json::object body{{"action", publisher ? "on_unpublish" : "on_stop"},
                           {"client_id", client.id},
                           {"ip", client.ip},
                           {"app", client.app},
                           {"stream", name}};
  asio::co_spawn(io, send_notice(url, boost::json::serialize(body), timeout), asio::detached);
}

}  // namespace junction::rtmp
