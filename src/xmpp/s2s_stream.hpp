#pragma once
// One server-to-server XMPP stream (RFC 6120, federation), sans-IO, either way round:
//  - outgoing: Junction's domain connects to another server's; it starts TLS when offered (and
//    insists when encryption is required), then proves its domain with server dialback
//    (XEP-0220: a key the other server checks by asking Junction back), then carries stanzas;
//    it also carries Junction's questions "is this key yours?" (db:verify) to that server;
//  - incoming: another server connected; it may start TLS, claim its domain with a dialback key
//    (which the connection around checks with that domain's own server, verify_needed), ask
//    whether a key Junction sent is Junction's (answered here, from the secret), and, once its
//    domain is verified, send stanzas for Junction's domains.
// Streams are one-way (RFC 6120 §4.2): stanzas go out on an outgoing stream, come in on an
// incoming one.
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xml/element.hpp"
#include "xml/stream_parser.hpp"

namespace junction::xmpp {

// XEP-0220 §2.4: HMAC-SHA256(SHA256(secret), receiving + " " + originating + " " + stream id), hex.
std::string dialback_key(std::string_view secret, std::string_view receiving, std::string_view originating,
                         std::string_view stream_id);

struct s2s_settings {
  std::vector<std::string> domains;  // Junction's own (lowercase)
  bool tls_offered = false;          // incoming: a certificate is configured, STARTTLS is offered
  bool require_encryption = true;    // no dialback, no stanza on an unencrypted stream
  std::string secret;                // what dialback keys are made from
  xml::stream_limits limits;
};

struct s2s_event {
  enum class kind {
    starttls,       // incoming: <proceed/> is queued, write it and start TLS (server side); outgoing:
                    // the peer said <proceed/>, start TLS (client side); then tls_started()
    verify_needed,  // incoming: the peer claims `remote` with `key` on stream `id`: ask remote's own
                    // server (db:verify), then verified()
    authenticated,  // outgoing: the peer accepted the key, stanzas may go; incoming: `remote` is
                    // verified on this stream
    verify_answer,  // outgoing: the peer answered a db:verify: `valid` for (`local`, `remote`, `id`)
    stanza,         // incoming: `stanza` (jabber:client namespace, from and to checked) for `local`
    closed,         // the stream is over once output is written (`reason` says why)
  };
  kind what = kind::closed;
  std::string local, remote, id, key;
  bool valid = false;
  std::shared_ptr<const xml::element> stanza;
  std::string reason;
};

class s2s_stream {
 public:
  enum class role { incoming, outgoing };
  // Incoming: `stream_id` is the one this side gives (local and remote come with the peer's
  // header). Outgoing: from `local` to `remote`, and the stream header is queued at once.
  s2s_stream(s2s_settings settings, role side, std::string stream_id, std::string local = {}, std::string remote = {});

  void receive(std::string_view bytes);
  void tls_started();
  // Incoming: the answer to verify_needed.
  void verified(const std::string& local, const std::string& remote, bool valid);
  // Outgoing: asks the peer whether `key`, which another connection presented for the peer's
  // domain on Junction's stream `id`, is the peer's; queued until the stream can carry it.
  void ask_verify(const std::string& id, const std::string& key);
  // Outgoing, once authenticated: a stanza (jabber:client namespace) from `local` for `remote`.
  void send_stanza(const xml::element& stanza);
  void fail(std::string_view condition, std::string_view text = {});
  void close();  // ends the stream politely (an idle link)

  std::string take_output() { return std::exchange(output_, {}); }
  std::vector<s2s_event> take_events() { return std::exchange(events_, {}); }
  bool closed() const noexcept { return state_ == state::closed; }
  bool authenticated() const noexcept { return state_ == state::ready; }
  bool secure() const noexcept { return secure_; }
  role side() const noexcept { return role_; }
  const std::string& local() const noexcept { return local_; }
  const std::string& remote() const noexcept { return remote_; }
  // Incoming: the domains verified on this stream, "local remote" each.
  const std::set<std::string>& verified_pairs() const noexcept { return verified_; }

 private:
  enum class state { header, features, tls, dialback, ready, closed };

  void send_header();
  void pump();
  void on_open(const xml::stream_event& e);
  void on_element(xml::element& e);
  void on_features(const xml::element& features);
  void on_incoming_element(xml::element& e);
  void on_db_result(const xml::element& e);
  void on_db_verify(const xml::element& e);
  void on_incoming_stanza(xml::element& e);
  void start_dialback();
  void send_verify_requests();
  bool is_local(std::string_view domain) const;
  void emit(s2s_event e) { events_.push_back(std::move(e)); }

  s2s_settings settings_;
  role role_;
  std::string stream_id_;  // incoming: ours; outgoing: the peer's, from its header
  std::string local_, remote_;
  xml::stream_parser parser_;
  state state_ = state::header;
  bool secure_ = false;
  bool awaiting_tls_ = false;
  std::string output_;
  std::vector<s2s_event> events_;
  std::vector<std::pair<std::string, std::string>> verify_requests_;  // outgoing: (id, key) not yet sent
  std::set<std::string> verified_;                                    // incoming: "local remote"
  std::set<std::string> claimed_;                                     // incoming: being verified
};

}  // namespace junction::xmpp
