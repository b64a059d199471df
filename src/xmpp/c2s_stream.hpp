#pragma once
// One client-to-server XMPP stream (RFC 6120), sans-IO: bytes from the client in, bytes for it
// and events for the connection around it out. It negotiates the stream (header, features,
// SASL with SCRAM, the restart, resource binding, the old session request), stamps and checks
// what the client sends once bound, answers what is addressed to the server itself (ping,
// service discovery, the roster, the session), and hands everything else out to be routed.
//
// Credentials are looked up outside (the user store lives behind a worker): the stream asks
// with need_credentials and reads nothing further until credentials() answers.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "users/scram.hpp"
#include "users/user_store.hpp"
#include "xml/element.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/jid.hpp"

namespace junction::xmpp {

struct c2s_settings {
  std::vector<std::string> domains;     // the domains this server is (lowercase)
  bool secure = false;                  // the connection is encrypted (PLAIN is offered only then)
  bool allow_plain = false;             // an unencrypted stream may go on (a loopback peer)
  bool framed = false;                  // XMPP over WebSocket (RFC 7395): <open/>/<close/>, one
                                        // element per message (take_frames())
  bool tls_offered = false;             // STARTTLS is offered (a certificate is configured)
  bool tls_required = false;            // ... and nothing else is, until the stream is encrypted
                                        // (set only with tls_offered)
  // What an encrypted connection can bind SCRAM's -PLUS mechanisms to (tls_started() sets it on
  // STARTTLS; a direct TLS connection gives it here).
  std::vector<users::scram_server::binding> bindings;
  std::size_t max_auth_failures = 3;    // then the stream is closed
  xml::stream_limits limits;
  std::string identity_name = "Junction";
  std::string muc_subdomain;            // the chat service at <muc_subdomain>.<domain>, listed in disco#items
  std::string upload_subdomain;         // the file upload service (XEP-0363), listed likewise
  bool archive = false;                 // message archives (XEP-0313) are kept: queries go to the account
  // Stream management (XEP-0198): offered after login; `sm_id_prefix` starts the id of a
  // resumable stream (it says where the stream lives); resumption within `sm_resume_seconds`.
  bool registration = false;            // in-band registration (XEP-0077) before login
  bool sm_offered = true;
  std::string sm_id_prefix;
  unsigned sm_resume_seconds = 300;
  std::size_t sm_max_unacked = 1000;    // stanzas sent and not acknowledged, then the stream ends
  // Random printable characters for SCRAM's server nonce (tests give their own).
  std::function<std::string()> nonce;
};

struct c2s_event {
  enum class kind {
    need_credentials,  // look up `username` in `who`'s domain, then call credentials()
    starttls,          // write what is queued, then TLS on the connection, then tls_started()
    authenticated,     // `who` (a bare JID) proved who it is
    auth_failed,       // one failed attempt by `username` in `who`'s domain (counted, throttled)
    bound,             // `who` (a full JID) is the stream's address now: register it
    route,             // `stanza` (from and to set) is for someone else: route it
    broadcast,         // `stanza` is presence without a recipient: to the user's own resources
    account_iq,        // `stanza` is an iq about the account itself (its roster): to its home
    subscription,      // `stanza` is a subscription request or answer (RFC 6121 §3) for `who`
    carbons,           // message carbons (XEP-0280) turned on (`reason` "enable") or off ("disable")
    resume,            // XEP-0198: the client asks to resume stream `reason` (its h in `handled`), as
                       // `who` (the bare JID it logged in as): find it, then resumed() or resume_failed()
    resumed,           // the stream took over the resumed one: `who` (a full JID) is its address
    register_account,  // XEP-0077: make `username` in `who`'s domain with `password`, then registered()
    change_password,   // ... give the logged-in `username` this `password`, then registered()
    unregister,        // ... remove the logged-in `username`, then registered()
    closed,            // the stream is over once `output` is written: close the connection
  };
  kind what = kind::closed;
  jid who;
  std::string username;
  std::shared_ptr<const xml::element> stanza;
  std::string reason;  // closed: why, for the log
  std::uint32_t handled = 0;
  std::string password;  // register_account, change_password: wipe it once used
};

// Stream management (XEP-0198) as a stream keeps it: what it counted, what it sent and was not
// told the client has; handed from a dropped stream to the one that resumes it.
struct sm_state {
  bool enabled = false;
  bool resumable = false;
  std::string id;
  std::uint32_t handled_in = 0;   // stanzas received from the client, mod 2^32
  std::uint32_t acked_out = 0;    // stanzas the client said it has, mod 2^32
  // Sent after those, oldest first (a vector: a deque allocates 576 bytes for every stream, and
  // acknowledgements come every few stanzas).
  std::vector<std::shared_ptr<const xml::element>> unacked;
  bool ack_requested = false;
};

class c2s_stream {
 public:
  c2s_stream(c2s_settings settings, std::string stream_id);

  // Bytes from the client.
  void receive(std::string_view bytes);
  // The answer to need_credentials: the user's record, or nothing when there is no such user.
  void credentials(std::optional<users::user_record> user);
  // Or: no attempt now (the source or the account is locked out after failed logins).
  void refuse_credentials(std::string_view condition);
  // The TLS handshake after `starttls` succeeded: the stream starts again, encrypted.
  void tls_started(std::vector<users::scram_server::binding> bindings);
  // The connection is TLS from its first byte (direct TLS, XEP-0368): call before any bytes.
  void tls_from_the_start(std::vector<users::scram_server::binding> bindings);
  // A stanza routed to this client.
  void deliver(const std::shared_ptr<const xml::element>& stanza);
  // The answer to `resume`: the dropped stream's address and state (its unacked stanzas are sent
  // again, but for those the client's h says it has), or none.
  void resumed(const jid& address, sm_state state);
  void resume_failed();
  // The answer to register_account, change_password or unregister: "" when done, else the
  // stanza error condition ("conflict", "not-acceptable", "not-allowed", ...).
  void registered(std::string_view condition);
  // A stream the client dropped that may be resumed: its state, taken (XEP-0198 §5).
  bool resumable() const noexcept { return sm_.resumable && state_ == state::ready; }
  sm_state take_sm_state() { return std::exchange(sm_, {}); }
  // Ends the stream with a stream error (RFC 6120 §4.9.3 condition: "conflict",
  // "system-shutdown", "policy-violation", ...).
  void fail(std::string_view condition, std::string_view text = {});

  std::string take_output();
  // What to write, one WebSocket message each when framed (else at most one string of bytes).
  std::vector<std::string> take_frames();
  std::vector<c2s_event> take_events();
  bool closed() const noexcept { return state_ == state::closed; }
  bool bound() const noexcept { return state_ == state::ready; }
  bool secure() const noexcept { return settings_.secure; }
  const jid& address() const noexcept { return address_; }
  const std::string& id() const noexcept { return stream_id_; }
  // Bytes received and not yet turned into stanzas (a limit on a slow drip).
  std::size_t buffered() const noexcept { return parser_.buffered(); }
  // The connection is about to wait for its client: the XML parser's memory goes while it waits
  // (xml::stream_parser::release_if_idle).
  void idle() { parser_.release_if_idle(); }

 private:
  enum class state { header, auth, restart, bind, ready, closed };

  void pump();
  void on_open(const xml::stream_event& e);
  void on_framed_open(const xml::element& open);
  void open_stream(const std::optional<jid>& to, std::string_view version);
  void on_stanza(xml::element& stanza);
  void on_sasl(const xml::element& e);
  void sasl_step(std::string_view client_message);
  void plain(std::string_view message);
  void plain_check(const users::user_record* user);
  void sasl_success(const std::string& username, std::string_view server_final);
  void sasl_failure(std::string_view condition, std::string_view username = {});
  void on_bind(xml::element& iq);
  void on_client_stanza(xml::element& stanza);
  void on_iq_for_server(const xml::element& iq, bool to_self);
  // XEP-0198 (c2s_stream_management.cpp): <enable/>, <r/>, <a/>, <resume/>.
  void on_sm(const xml::element& e);
  void acknowledged(std::uint32_t h);
  void count_sent(std::shared_ptr<const xml::element> stanza);
  // Client state indication (XEP-0352).
  void on_csi(const xml::element& e);
  void on_register(const xml::element& iq, bool logged_in);
  void flush_held_presence();
  void send_header();
  void send_features();
  bool plus_offered() const;
  void send(const xml::element& e);
  void write_element(const xml::element& e);
  void send_raw(std::string_view bytes) {
    if (settings_.framed) frames_.emplace_back(bytes);
    else output_.append(bytes);
  }
  void reply_error(const xml::element& stanza, std::string_view type, std::string_view condition);
  void emit(c2s_event e) { events_.push_back(std::move(e)); }
  bool is_local_domain(std::string_view domain) const;

  c2s_settings settings_;
  std::string stream_id_;
  xml::stream_parser parser_;
  state state_ = state::header;
  std::string domain_;  // the one the client asked for
  std::string output_;
  std::vector<std::string> frames_;
  std::vector<c2s_event> events_;
  jid address_;
  // SASL under way.
  std::unique_ptr<users::scram_server> scram_;
  std::string mechanism_;
  std::string plain_password_;  // PLAIN's, while the user is looked up (then wiped)
  std::string plain_username_;
  bool awaiting_credentials_ = false;
  bool awaiting_tls_ = false;
  bool awaiting_resume_ = false;
  std::uint32_t resume_h_ = 0;
  sm_state sm_;
  bool inactive_ = false;
  bool awaiting_register_ = false;
  std::unique_ptr<xml::element> register_iq_;
  std::vector<std::shared_ptr<const xml::element>> held_presence_;
  std::size_t auth_failures_ = 0;
  std::size_t resources_made_ = 0;
};

}  // namespace junction::xmpp
