#pragma once
// XMPP over BOSH (XEP-0124, XEP-0206) at POST /http-bind: a client's stream carried by HTTP
// requests, each a <body/> wrapping what the client sends, each answered (at once or, held,
// when something comes or `wait` passes) with a <body/> wrapping what the server sends.
//
// A session lives on the shard that created it (its sid says which): requests that arrive on
// other shards (a client uses two connections) are handed to it there and answered from there.
// Inside, the session is a WebSocket-like channel of one element per message, so the client
// stream runs exactly as XMPP over WebSocket does (RFC 7395 framing, run_websocket_c2s).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

namespace junction {
class shard;
}

namespace junction::xmpp {

class server;
class bosh_session;

class bosh_sessions {
 public:
  static constexpr std::size_t max_sessions = 10000;  // per shard

  bosh_sessions(server& owner, shard& home);
  ~bosh_sessions();

  // On the session's shard (or, for a new session, the request's): one request's body, answered
  // through `respond` (HTTP status, body) now or later, on this shard.
  void request(std::string body, std::string peer, bool secure,
               std::function<void(int, std::string)> respond);
  void forget(const std::string& sid);
  std::size_t size() const noexcept { return sessions_.size(); }

 private:
  server& owner_;
  shard& home_;
  std::unordered_map<std::string, std::shared_ptr<bosh_session>> sessions_;
};

}  // namespace junction::xmpp
