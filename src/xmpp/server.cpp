#include "xmpp/server.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include <boost/asio/ssl/context.hpp>

#include <openssl/rand.h>

#include "core/byte_stream.hpp"
#include "core/listener.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "core/base64.hpp"
#include "core/home_shard.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {

xmpp_metrics xmpp_metrics::declare(metric_registry& r) {
  using k = metric_kind;
  xmpp_metrics m{connection_metrics::declare(r, "xmpp"), connection_metrics::declare(r, "xmpps"),
                 connection_metrics::declare(r, "xmpp_s2s_in"), connection_metrics::declare(r, "xmpp_s2s_out"),
                 connection_metrics::declare(r, "xmpp_bosh"),
                 {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  m.sessions = r.add("junction_xmpp_sessions", "XMPP client streams with a bound resource.", k::gauge);
  m.stanzas_in = r.add("junction_xmpp_stanzas_received_total", "Stanzas received from bound XMPP clients.",
                       k::counter);
  m.stanzas_out = r.add("junction_xmpp_stanzas_delivered_total", "Stanzas delivered to XMPP clients.",
                        k::counter);
  m.logins = r.add("junction_xmpp_logins_total", "Successful XMPP authentications (SASL).", k::counter);
  m.auth_failures = r.add("junction_xmpp_auth_failures_total", "Failed XMPP authentications (SASL).",
                          k::counter);
  m.auth_throttled = r.add("junction_xmpp_auth_throttled_total",
                           "XMPP logins refused unchecked (temporary-auth-failure) while their source or account "
                           "was locked out after repeated failed logins.",
                           k::counter);
  m.stream_errors = r.add("junction_xmpp_stream_errors_total",
                          "XMPP streams ended with a stream error (bad XML, limits, conflicts, timeouts).",
                          k::counter);
  m.offline = r.add("junction_xmpp_offline_messages",
                    "Messages kept for XMPP accounts with no available resource (delivered when one comes).",
                    k::gauge);
  m.s2s_links = r.add("junction_xmpp_s2s_links", "Authenticated outgoing links to other XMPP servers.", k::gauge);
  m.s2s_stanzas_in = r.add("junction_xmpp_s2s_stanzas_received_total", "Stanzas received from other XMPP servers.",
                           k::counter);
  m.s2s_stanzas_out = r.add("junction_xmpp_s2s_stanzas_sent_total", "Stanzas sent to other XMPP servers.",
                            k::counter);
  m.s2s_failures = r.add("junction_xmpp_s2s_failures_total",
                         "Outgoing links to other XMPP servers that could not be made (DNS, connection, TLS, "
                         "dialback, timeout).",
                         k::counter);
  m.archived = r.add("junction_xmpp_archived_messages_total",
                     "Messages written to users' archives (XEP-0313), each copy counted (sender's and recipient's).",
                     k::counter);
  m.hibernating = r.add("junction_xmpp_hibernating_sessions",
                        "XMPP sessions whose connection dropped, kept for resumption (XEP-0198).", k::gauge);
  m.muc_rooms = r.add("junction_xmpp_muc_rooms", "Multi-user chat rooms (XEP-0045) that exist.", k::gauge);
  return m;
}

server::server(runtime& rt, const xmpp_config& cfg, std::vector<std::string> domains, users::user_directory& users,
               worker_pool& workers)
    : rt_(rt), config_(cfg), domains_(std::move(domains)), metrics_(xmpp_metrics::declare(rt.registry())),
      users_(users), workers_(workers), routers_(std::make_unique<sharded<shard_router>>(rt, *this)),
      links_(std::make_unique<sharded<s2s_links>>(rt, *this)), mucs_(std::make_unique<sharded<muc_service>>(rt, *this)),
      bosh_(std::make_unique<sharded<bosh_sessions>>(rt, *this)),
      tls_(rt, make_tls(cfg)),
      dialback_secret_(cfg.dialback_secret) {
  for (auto& d : domains_) std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!cfg.muc_subdomain.empty())
    for (const auto& d : domains_) muc_services_.push_back(cfg.muc_subdomain + "." + d);
  tls_client_ = make_tls_client_context();
  if (dialback_secret_.empty()) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("xmpp: no random bytes for the dialback secret");
    dialback_secret_ = base64::encode({reinterpret_cast<const char*>(bytes), sizeof bytes});
  }
}

std::shared_ptr<const server::tls_settings> server::make_tls(const xmpp_config& cfg) {
  auto s = std::make_shared<tls_settings>();
  if (!cfg.tls_certificate.empty())
    s->context = make_tls_server_context("xmpp", cfg.tls_certificate, cfg.tls_private_key, cfg.tls);
  return s;
}

void server::reload(const xmpp_config& cfg) {
  // Whether there is a certificate at all does not change here (plain logins depend on it): the
  // reloader refuses that change.
  if (cfg.tls_certificate.empty() != config_.tls_certificate.empty()) return;
  tls_.publish(make_tls(cfg));
}

server::~server() {
  if (bosh_) bosh_->stop();
  if (mucs_) mucs_->stop();
  if (links_) links_->stop();
  if (routers_) routers_->stop();
}

void server::release_loop_state() {
  if (bosh_) bosh_->stop();
  for (unsigned i = 0; i < routers_->size(); ++i) routers_->at(i).drop_hibernated();
}

s2s_links& server::links_here() { return links_->local(); }
muc_service& server::muc_here() { return mucs_->local(); }

bool server::is_muc_service(std::string_view domain) const noexcept {
  return std::find(muc_services_.begin(), muc_services_.end(), domain) != muc_services_.end();
}

bool server::serves(std::string_view domain) const noexcept {
  return std::find(domains_.begin(), domains_.end(), domain) != domains_.end();
}

shard_router& server::router_here() { return routers_->local(); }

void server::listen() {
  auto start = [this](bool direct_tls) {
    return [this, direct_tls](shard& home, boost::asio::ip::tcp::socket socket, connection_ticket ticket) {
      start_c2s_session(*this, home, std::move(socket), std::move(ticket), direct_tls);
    };
  };
  auto bind = [&](const listen_address& address, bool direct_tls) {
    boost::asio::ip::tcp::endpoint bound;
    try {
      bound = listen_tcp(rt_, address, direct_tls ? metrics_.c2s_tls : metrics_.c2s, start(direct_tls));
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(fmt::format("xmpp {}listener {}: {}", direct_tls ? "tls " : "", address.to_string(),
                                           e.code().message()));
    }
    rt_.add_listener({direct_tls ? "xmpps" : "xmpp", "tcp",
                      listen_address{bound.address().to_string(), bound.port()}.to_string()});
  };
  for (const auto& address : config_.listen) bind(address, false);
  for (const auto& address : config_.tls_listen) bind(address, true);
  if (config_.federation)
    for (const auto& address : config_.s2s_listen) {
      boost::asio::ip::tcp::endpoint bound;
      try {
        bound = listen_tcp(rt_, address, metrics_.s2s_in,
                           [this](shard& home, boost::asio::ip::tcp::socket socket, connection_ticket ticket) {
                             start_s2s_in_session(*this, home, std::move(socket), std::move(ticket));
                           });
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error(fmt::format("xmpp s2s listener {}: {}", address.to_string(), e.code().message()));
      }
      rt_.add_listener({"xmpp-s2s", "tcp", listen_address{bound.address().to_string(), bound.port()}.to_string()});
    }
  routers_->invoke_on_all([](shard_router& r) { r.load_offline(); });
}

void server::route(const jid& to, stanza_ptr stanza) {
  if (to.local().empty() && is_upload_service(to.domain())) return upload_stanza(std::move(stanza));
  if (is_muc_service(to.domain())) {
    if (to.local().empty()) return muc_service_stanza(std::move(stanza));
    mucs_->invoke_on(muc_home_of(to, rt_.size()),
                     [to, stanza = std::move(stanza)](muc_service& m) { m.room_stanza(to, stanza); });
    return;
  }
  if (!serves(to.domain())) {
    const auto from = jid::parse(stanza->attr("from"));
    if (!from || !serves(from->domain())) return;  // only Junction's own users send to other servers
    if (!config_.federation) {
      if (auto error = error_reply(*stanza, "cancel", "remote-server-not-found", "federation is off on this server"))
        route(*from, std::move(error));
      return;
    }
    links_->invoke_on(s2s_home_of(to.domain(), rt_.size()),
                      [local = from->domain(), remote = to.domain(), stanza = std::move(stanza)](s2s_links& l) {
                        l.send(local, remote, stanza);
                      });
    return;
  }
  if (to.local().empty()) return;  // the domain itself: answered by whoever received it
  routers_->invoke_on(home_of(to, rt_.size()),
                      [to, stanza = std::move(stanza)](shard_router& r) { r.route(to, stanza); });
}

void server::broadcast(const jid& from, std::uint64_t stream, stanza_ptr presence) {
  routers_->invoke_on(home_of(from, rt_.size()), [from, stream, presence = std::move(presence)](shard_router& r) {
    r.broadcast(from, stream, presence);
  });
}

void server::account_iq(const jid& from, stanza_ptr iq) {
  routers_->invoke_on(home_of(from, rt_.size()), [from, iq = std::move(iq)](shard_router& r) { r.account_iq(from, iq); });
}

void server::subscription(const jid& from, const jid& to, stanza_ptr presence) {
  routers_->invoke_on(home_of(from, rt_.size()), [from, to, presence = std::move(presence)](shard_router& r) {
    r.outbound_subscription(from, to, presence);
  });
}

void server::set_carbons(const jid& address, std::uint64_t stream, bool on) {
  routers_->invoke_on(home_of(address, rt_.size()),
                      [address, stream, on](shard_router& r) { r.set_carbons(address, stream, on); });
}

void server::sent(const jid& from, const jid& to, stanza_ptr stanza) {
  routers_->invoke_on(home_of(from, rt_.size()), [this, to, stanza = std::move(stanza)](shard_router&) {
    route(to, stanza);
  });
}

void server::sent_message(const jid& from, const jid& to, stanza_ptr message) {
  routers_->invoke_on(home_of(from, rt_.size()), [this, from, to, message = std::move(message)](shard_router& r) {
    r.sent_carbons(from, message);
    route(to, message);
  });
}

void server::bind(const jid& address, unsigned shard, std::uint64_t stream) {
  routers_->invoke_on(home_of(address, rt_.size()),
                      [address, shard, stream](shard_router& r) { r.bind(address, shard, stream); });
}

void server::directed_unavailable(const jid& address, const std::vector<std::string>& directed) {
  // Those it sent presence to directly (a chat room, say) learn it left (RFC 6121 §4.6.3).
  for (const auto& target : directed) {
    const auto to = jid::parse(target);
    if (!to) continue;
    auto gone = std::make_shared<xml::element>(std::string(ns::client), "presence");
    gone->set("type", "unavailable");
    gone->set("from", address.str());
    gone->set("to", target);
    sent(address, *to, std::move(gone));
  }
}

void server::end_session(const jid& address, std::uint64_t stream, bool available,
                         const std::vector<std::string>& directed) {
  directed_unavailable(address, directed);
  if (available) {
    auto gone = std::make_shared<xml::element>(std::string(ns::client), "presence");
    gone->set("type", "unavailable");
    gone->set("from", address.str());
    broadcast(address, stream, std::move(gone));
  }
  unbind(address, stream);
}

void server::redeliver(const jid& to, stanza_ptr stanza) {
  routers_->invoke_on(home_of(to, rt_.size()),
                      [to, stanza = std::move(stanza)](shard_router& r) { r.route(to, stanza, true); });
}

void server::take_hibernated(unsigned shard, std::string previd, jid account, std::uint64_t to_stream) {
  const unsigned here = shard::current()->index();
  routers_->invoke_on(shard, [previd = std::move(previd), account = std::move(account), here, to_stream](shard_router& r) {
    r.take_hibernated(previd, account, here, to_stream);
  });
}

void server::resume_on(unsigned shard, std::uint64_t stream, std::shared_ptr<resumable_session> found) {
  routers_->invoke_on(shard, [stream, found = std::move(found)](shard_router& r) { r.resume_here(stream, found); });
}

void server::rebind(const jid& address, std::uint64_t old_stream, unsigned shard, std::uint64_t stream) {
  routers_->invoke_on(home_of(address, rt_.size()), [address, old_stream, shard, stream](shard_router& r) {
    r.rebind(address, old_stream, shard, stream);
  });
}

void server::may_register(std::string source, unsigned back, std::function<void(bool)> then) {
  const unsigned counter = home_shard("xmpp-register:" + source, rt_.size());
  routers_->invoke_on(counter, [this, source = std::move(source), back, then = std::move(then)](shard_router& r) mutable {
    const bool ok = r.may_register(source);
    routers_->invoke_on(back, [then = std::move(then), ok](shard_router&) { then(ok); });
  });
}

void server::blocklist_to(unsigned shard, std::uint64_t stream, std::shared_ptr<const std::set<std::string>> blocked) {
  routers_->invoke_on(shard, [stream, blocked = std::move(blocked)](shard_router& r) { r.blocklist_here(stream, blocked); });
}

void server::unbind(const jid& address, std::uint64_t stream) {
  routers_->invoke_on(home_of(address, rt_.size()), [address, stream](shard_router& r) { r.unbind(address, stream); });
}

void server::deliver(unsigned shard, std::uint64_t stream, stanza_ptr stanza) {
  if (shard == shard::current()->index()) return routers_->local().deliver_here(stream, stanza);
  routers_->invoke_on(shard, [stream, stanza = std::move(stanza)](shard_router& r) { r.deliver_here(stream, stanza); });
}

void server::kick(unsigned shard, std::uint64_t stream, std::string condition, std::string text) {
  routers_->invoke_on(shard, [stream, condition = std::move(condition), text = std::move(text)](shard_router& r) {
    r.kick_here(stream, condition, text);
  });
}

void server::s2s_ask_verify(std::string local, std::string remote, std::string id, std::string key, unsigned shard,
                            std::uint64_t stream) {
  const unsigned home = s2s_home_of(remote, rt_.size());
  links_->invoke_on(home, [local = std::move(local), remote = std::move(remote), id = std::move(id),
                           key = std::move(key), shard, stream](s2s_links& l) {
    l.ask_verify(local, remote, id, key, shard, stream);
  });
}

void server::s2s_verdict(unsigned shard, std::uint64_t stream, std::string local, std::string remote, bool valid) {
  links_->invoke_on(shard, [stream, local = std::move(local), remote = std::move(remote), valid](s2s_links& l) {
    l.verdict(stream, local, remote, valid);
  });
}

// The chat service itself: what it is (disco#info) and its listed rooms (disco#items, gathered
// from every shard's part).
void server::muc_service_stanza(stanza_ptr stanza) {
  const auto from = jid::parse(stanza->attr("from"));
  if (!from || stanza->name() != "iq") return;
  const std::string_view type = stanza->attr("type");
  if (type != "get" && type != "set") return;
  const std::string service(stanza->attr("to"));
  auto reply = std::make_shared<xml::element>(std::string(ns::client), "iq");
  reply->set("type", "result").set("id", stanza->attr("id")).set("from", service).set("to", from->str());
  if (type == "get" && stanza->child(ns::disco_info, "query")) {
    auto& q = reply->add(std::string(ns::disco_info), "query");
    q.add(std::string(ns::disco_info), "identity").set("category", "conference").set("type", "text").set("name", "Chat rooms");
    for (std::string_view f : {std::string_view("http://jabber.org/protocol/muc"), ns::disco_info, ns::disco_items, ns::ping})
      q.add(std::string(ns::disco_info), "feature").set("var", f);
    return route(*from, std::move(reply));
  }
  if (type == "get" && stanza->child(ns::disco_items, "query")) {
    struct gathering {
      std::shared_ptr<xml::element> reply;
      jid to;
      unsigned left;
    };
    auto g = std::make_shared<gathering>(gathering{reply, *from, rt_.size()});
    g->reply->add(std::string(ns::disco_items), "query");
    const unsigned origin = shard::current()->index();
    for (unsigned i = 0; i < rt_.size(); ++i)
      mucs_->invoke_on(i, [this, g, origin, service](muc_service& m) {
        auto part = m.listed(service);
        mucs_->invoke_on(origin, [this, g, part = std::move(part)](muc_service&) {
          auto* q = g->reply->child(ns::disco_items, "query");
          for (const auto& room : part) q->add(std::string(ns::disco_items), "item").set("jid", room.jid).set("name", room.name);
          if (--g->left == 0) route(g->to, g->reply);
        });
      });
    return;
  }
  if (type == "get" && stanza->child(ns::ping, "ping")) return route(*from, std::move(reply));
  if (auto error = error_reply(*stanza, "cancel", "service-unavailable")) route(*from, std::move(error));
}

void server::server_stanza(stanza_ptr stanza) {
  if (stanza->name() != "iq") return;  // messages and presence to a domain: nobody to show them to
  const std::string_view type = stanza->attr("type");
  if (type != "get" && type != "set") return;
  const auto from = jid::parse(stanza->attr("from"));
  if (!from) return;
  const xml::element* payload = nullptr;
  for (const auto& c : stanza->children())
    if (!c.is_text()) payload = &c;
  auto reply = std::make_shared<xml::element>(std::string(ns::client), "iq");
  reply->set("type", "result");
  reply->set("id", stanza->attr("id"));
  reply->set("from", stanza->attr("to"));
  reply->set("to", stanza->attr("from"));
  if (payload && payload->is(ns::ping, "ping") && type == "get") return route(*from, std::move(reply));
  if (payload && payload->is(ns::disco_info, "query") && type == "get" && !payload->has("node")) {
    auto& query = reply->add(std::string(ns::disco_info), "query");
    query.add(std::string(ns::disco_info), "identity").set("category", "server").set("type", "im").set("name", "Junction");
    for (std::string_view feature : {ns::disco_info, ns::disco_items, ns::ping})
      query.add(std::string(ns::disco_info), "feature").set("var", feature);
    return route(*from, std::move(reply));
  }
  if (payload && payload->is(ns::disco_items, "query") && type == "get") {
    reply->add(std::string(ns::disco_items), "query");
    return route(*from, std::move(reply));
  }
  if (auto error = error_reply(*stanza, "cancel", "service-unavailable")) route(*from, std::move(error));
}

}  // namespace junction::xmpp
