#pragma once
// An RTMP application with behaviour of its own (the gateway's `sip` application): it decides
// connects, answers NetConnection.call methods, calls the client back, and names the streams
// the connection publishes and plays. The session owns one handler per connection; everything
// runs on the connection's shard.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/amf/value.hpp"
#include "rtmp/commands.hpp"

namespace junction {
class shard;
}

namespace junction::rtmp {

struct connect_request;

// What a handler may do with its connection.
class client_link {
 public:
  virtual ~client_link() = default;
  // Calls a method on the client's NetConnection (a command with transaction id 0).
  virtual void invoke(std::string_view method, std::vector<media::amf::value> args) = 0;
  // Closes the connection (after what is queued has gone out).
  virtual void disconnect(std::string_view why) = 0;
  virtual std::uint64_t connection_id() const = 0;
  virtual std::string_view peer() const = 0;
  virtual junction::shard& home() = 0;
};

class app_handler {
 public:
  virtual ~app_handler() = default;
  // The connect: nothing to accept it, else the refusal's description.
  virtual boost::asio::awaitable<std::optional<std::string>> on_connect(const connect_request& r) = 0;
  // A NetConnection.call: true when the handler knows the method (it answered through
  // `answer`: a result value, or nullopt and an error description).
  struct call_answer {
    std::optional<media::amf::value> result;
    std::string error;
  };
  virtual bool on_call(const command& c, call_answer& answer) = 0;
  // The stream hub key for a stream this connection publishes or plays as `name`.
  virtual std::string stream_key(std::string_view name) = 0;
  // The connection is going: end calls, unregister. The handler is destroyed right after.
  virtual void on_disconnect() = 0;
};

using app_handler_factory = std::function<std::unique_ptr<app_handler>(client_link&)>;

}  // namespace junction::rtmp
