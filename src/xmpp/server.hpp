#pragma once
// The XMPP server (docs/xmpp.md): client streams on [xmpp] listen, one router per shard
// (router.hpp), users from the user store shared with SIP.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/connection.hpp"
#include "core/metrics.hpp"
#include "core/shard_local.hpp"
#include "core/sharded.hpp"
#include "xmpp/config.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/bosh.hpp"
#include "xmpp/muc_service.hpp"
#include "xmpp/router.hpp"
#include "xmpp/s2s_links.hpp"

namespace boost::asio::ssl {
class context;
}
namespace junction {
class runtime;
class worker_pool;
}
namespace junction::users {
class user_directory;
}
namespace junction::http {
class server;
class websocket_channel;
}

namespace junction::xmpp {

struct xmpp_metrics {
  connection_metrics c2s, c2s_tls, s2s_in, s2s_out, bosh;
  metric_id sessions, stanzas_in, stanzas_out, logins, auth_failures, auth_throttled, stream_errors, offline;
  metric_id s2s_links, s2s_stanzas_in, s2s_stanzas_out, s2s_failures, archived, hibernating, muc_rooms;
  static xmpp_metrics declare(metric_registry& registry);
};

class server {
 public:
  // `domains`: the domains served (xmpp.domains, or sip.domains when that is empty).
  server(runtime& rt, const xmpp_config& cfg, std::vector<std::string> domains, users::user_directory& users,
         worker_pool& workers);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void listen();
  // At shutdown, once the shards have stopped and before their loops go (the app's order): what
  // holds the loops' timers goes first: BOSH sessions and hibernating streams.
  void release_loop_state();
  // /api/v1/xmpp/sessions (sessions_api.cpp).
  void attach_http(http::server& web);

  runtime& rt() noexcept { return rt_; }
  const xmpp_config& config() const noexcept { return config_; }
  const std::vector<std::string>& domains() const noexcept { return domains_; }
  bool serves(std::string_view domain) const noexcept;
  // A multi-user chat service's domain (conference.<domain>).
  bool is_muc_service(std::string_view domain) const noexcept;
  const xmpp_metrics& metrics() const noexcept { return metrics_; }
  users::user_directory& users() noexcept { return users_; }
  shard_router& router_here();
  // The TLS context for STARTTLS and direct TLS; nothing without a certificate.
  // A reload (SIGHUP) reads the certificate again: new connections get the new one, each
  // connection keeps the one it began with.
  std::shared_ptr<boost::asio::ssl::context> tls() const { return tls_.get().context; }
  // A reload: the certificate, key and TLS settings (xmpp.tls_*) for new connections.
  void reload(const xmpp_config& cfg);
  // Federation (s2s_links.hpp, s2s_session.cpp): TLS for connections Junction makes, the dialback
  // secret, the workers that look up other servers in DNS.
  std::shared_ptr<boost::asio::ssl::context> tls_client() const { return tls_client_; }
  const std::string& dialback_secret() const noexcept { return dialback_secret_; }
  worker_pool& workers() noexcept { return workers_; }
  s2s_links& links_here();
  muc_service& muc_here();
  bool has_muc() const noexcept { return !muc_services_.empty(); }
  // HTTP file upload (XEP-0363, upload_service.cpp): its domains, an iq for one of them (on any
  // shard), whether it is on (an HTTP server to take the files).
  bool is_upload_service(std::string_view domain) const noexcept;
  void upload_stanza(stanza_ptr stanza);
  bool has_upload() const noexcept { return web_ != nullptr; }

  // From any shard. `stanza` goes to its recipient's home shard, then on to its streams.
  void route(const jid& to, stanza_ptr stanza);
  void broadcast(const jid& from, std::uint64_t stream, stanza_ptr presence);
  // An iq about the account itself (its roster) from `from`, a full JID.
  void account_iq(const jid& from, stanza_ptr iq);
  // A subscription stanza `from` sends to `to` (both bare JIDs).
  void subscription(const jid& from, const jid& to, stanza_ptr presence);
  // Message carbons (XEP-0280): `address`'s stream turns them on or off.
  void set_carbons(const jid& address, std::uint64_t stream, bool on);
  // A message `from` (a full JID) sent to `to`: archived and copied to the account's other
  // resources on its home shard, then routed on from there, so that the account's archive has it
  // before any answer to it (an answer is archived on the same shard, after).
  void sent_message(const jid& from, const jid& to, stanza_ptr message);
  // Any other stanza a user of this server sends (presence to one recipient, an iq): routed on
  // from the account's home shard too, the way its messages and broadcasts go, so that what one
  // stream sends to one recipient arrives in the order sent (RFC 6120 §10.1).
  void sent(const jid& from, const jid& to, stanza_ptr stanza);
  void bind(const jid& address, unsigned shard, std::uint64_t stream);
  // A bound stream ends: its resource leaves (unavailable to the account's resources and
  // contacts if it was available), from the stream's shard.
  void end_session(const jid& address, std::uint64_t stream, bool available,
                   const std::vector<std::string>& directed = {});
  void directed_unavailable(const jid& address, const std::vector<std::string>& directed);
  // A message a session never got, to the account again (not archived twice).
  void redeliver(const jid& to, stanza_ptr stanza);
  // XEP-0198 resumption: ask shard `shard` for hibernating stream `previd` of `account`, for
  // stream `to_stream` on this shard; the answer back to that stream; the resource moved.
  void take_hibernated(unsigned shard, std::string previd, jid account, std::uint64_t to_stream);
  void resume_on(unsigned shard, std::uint64_t stream, std::shared_ptr<resumable_session> found);
  void rebind(const jid& address, std::uint64_t old_stream, unsigned shard, std::uint64_t stream);
  // In-band registration: whether `source` may make an account now, asked on the shard it
  // hashes to, answered on shard `back`.
  void may_register(std::string source, unsigned back, std::function<void(bool)> then);
  // The account's blocklist to one of its streams.
  void blocklist_to(unsigned shard, std::uint64_t stream, std::shared_ptr<const std::set<std::string>> blocked);
  void unbind(const jid& address, std::uint64_t stream);
  void deliver(unsigned shard, std::uint64_t stream, stanza_ptr stanza);
  void kick(unsigned shard, std::uint64_t stream, std::string condition, std::string text);
  // Federation, from any shard: ask `remote`'s server whether `key` is its (for incoming stream
  // `stream` on `shard`), and the verdict back to that stream.
  void s2s_ask_verify(std::string local, std::string remote, std::string id, std::string key, unsigned shard,
                      std::uint64_t stream);
  void s2s_verdict(unsigned shard, std::uint64_t stream, std::string local, std::string remote, bool valid);
  // A stanza another server sent to one of Junction's domains itself (ping, disco): answered.
  void server_stanza(stanza_ptr stanza);

 private:
  runtime& rt_;
  xmpp_config config_;
  std::vector<std::string> domains_;
  xmpp_metrics metrics_;
  users::user_directory& users_;
  worker_pool& workers_;
  std::unique_ptr<sharded<shard_router>> routers_;
  std::unique_ptr<sharded<s2s_links>> links_;
  std::unique_ptr<sharded<muc_service>> mucs_;
  std::unique_ptr<sharded<bosh_sessions>> bosh_;
  std::vector<std::string> muc_services_;
  void muc_service_stanza(stanza_ptr stanza);
  void attach_upload(http::server& web);
  std::string upload_base() const;
  std::vector<std::string> upload_services_;
  void expire_uploads_if_due();
  void post_upload_expiry();
  std::vector<std::chrono::steady_clock::time_point> upload_expired_at_;  // per shard, its own slot
  http::server* web_ = nullptr;
  struct tls_settings {
    std::shared_ptr<boost::asio::ssl::context> context;  // nothing without a certificate
  };
  static std::shared_ptr<const tls_settings> make_tls(const xmpp_config& cfg);
  shard_local<tls_settings> tls_;
  std::shared_ptr<boost::asio::ssl::context> tls_client_;
  std::string dialback_secret_;
};

// One accepted client connection, run on the shard that accepted it (session.cpp).
// `direct_tls`: the connection came to a tls_listen address (XEP-0368).
void start_c2s_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket, connection_ticket ticket,
                       bool direct_tls);
// Federation (s2s_session.cpp): a connection to s2s_listen, and a new link's connection.
void start_s2s_in_session(server& srv, shard& home, boost::asio::ip::tcp::socket socket, connection_ticket ticket);
void start_s2s_out(server& srv, shard& home, const std::string& local, const std::string& remote);
// XMPP over WebSocket (RFC 7395) on the HTTP server's /xmpp-websocket (session.cpp).
boost::asio::awaitable<void> run_websocket_c2s(server& srv, http::websocket_channel& channel);

}  // namespace junction::xmpp
