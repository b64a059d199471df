#include "xmpp/s2s_stream.hpp"

#include <openssl/sha.h>

#include <algorithm>

#include "users/hmac.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {
namespace {

constexpr std::string_view dialback_ns = "jabber:server:dialback";

bool is_stanza_name(std::string_view n) { return n == "message" || n == "presence" || n == "iq"; }

bool version_1(std::string_view version) { return !version.empty() && version.substr(0, version.find('.')) >= "1"; }

std::string pair_key(std::string_view local, std::string_view remote) {
  std::string k(local);
  k += ' ';
  k += remote;
  return k;
}

// A domain as another server names itself: a JID's domain part, nothing else.
bool valid_domain(std::string_view d) {
  auto j = jid::parse(d);
  return j && j->local().empty() && j->is_bare() && j->domain() == d;
}

s2s_event make(s2s_event::kind what, std::string local = {}, std::string remote = {}) {
  s2s_event e;
  e.what = what;
  e.local = std::move(local);
  e.remote = std::move(remote);
  return e;
}

void attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "='";
  xml::escape(value, out, true);
  out += '\'';
}

}  // namespace

std::string dialback_key(std::string_view secret, std::string_view receiving, std::string_view originating,
                         std::string_view stream_id) {
  unsigned char hashed[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), hashed);
  static constexpr char hex[] = "0123456789abcdef";
  std::string key_hex;
  for (unsigned char c : hashed) {
    key_hex += hex[c >> 4];
    key_hex += hex[c & 15];
  }
  users::sha256_mac mac{};
  if (!users::hmac_sha256(key_hex, {receiving, " ", originating, " ", stream_id}, mac)) return {};
  std::string out;
  for (unsigned char c : mac) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

s2s_stream::s2s_stream(s2s_settings settings, role side, std::string stream_id, std::string local, std::string remote)
    : settings_(std::move(settings)), role_(side), stream_id_(std::move(stream_id)), local_(std::move(local)),
      remote_(std::move(remote)), parser_(settings_.limits) {
  if (role_ == role::outgoing) send_header();
}

bool s2s_stream::is_local(std::string_view domain) const {
  return std::find(settings_.domains.begin(), settings_.domains.end(), domain) != settings_.domains.end();
}

void s2s_stream::send_header() {
  output_ += "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
             "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'";
  if (!local_.empty()) attribute(output_, "from", local_);
  if (!remote_.empty()) attribute(output_, "to", remote_);
  if (role_ == role::incoming) attribute(output_, "id", stream_id_);
  output_ += " version='1.0'>";
}

void s2s_stream::receive(std::string_view bytes) {
  if (state_ == state::closed) return;
  parser_.feed(bytes);
  pump();
}

void s2s_stream::pump() {
  while (state_ != state::closed && !awaiting_tls_) {
    auto event = parser_.next();
    if (!event) return;
    switch (event->what) {
      case xml::stream_event::kind::open: on_open(*event); break;
      case xml::stream_event::kind::stanza: on_element(event->node); break;
      case xml::stream_event::kind::close:
        output_ += "</stream:stream>";
        state_ = state::closed;
        emit(make(s2s_event::kind::closed));
        events_.back().reason = "the peer closed its stream";
        return;
      case xml::stream_event::kind::error: fail(xml::stream_error_condition(event->error), event->detail); return;
    }
  }
}

void s2s_stream::fail(std::string_view condition, std::string_view text) {
  if (state_ == state::closed) return;
  output_ += "<stream:error><";
  output_ += condition;
  output_ += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
  if (!text.empty()) {
    output_ += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>";
    xml::escape(text, output_, false);
    output_ += "</text>";
  }
  output_ += "</stream:error></stream:stream>";
  state_ = state::closed;
  auto e = make(s2s_event::kind::closed, local_, remote_);
  e.reason = std::string(condition);
  if (!text.empty()) e.reason += ": " + std::string(text);
  emit(std::move(e));
}

void s2s_stream::close() {
  if (state_ == state::closed) return;
  output_ += "</stream:stream>";
  state_ = state::closed;
  auto e = make(s2s_event::kind::closed, local_, remote_);
  e.reason = "closed by this side";
  emit(std::move(e));
}

void s2s_stream::on_open(const xml::stream_event& e) {
  if (role_ == role::incoming) {
    // Answered before any check: a stream error needs a stream to be in (RFC 6120 §4.9.1.2).
    const std::string_view to = e.node.attr("to"), from = e.node.attr("from");
    if (local_.empty() && is_local(to)) local_ = std::string(to);
    if (remote_.empty() && valid_domain(from)) remote_ = std::string(from);
    send_header();
    if (!e.node.is(ns::streams, "stream")) return fail("invalid-namespace", "the root must be <stream:stream>");
    if (e.default_ns != ns::server) return fail("invalid-namespace", "this port speaks jabber:server");
    if (!to.empty() && !is_local(to)) return fail("host-unknown", "this server does not serve that domain");
    if (!version_1(e.node.attr("version"))) return fail("unsupported-version", "XMPP 1.0 streams only");
    if (!secure_ && settings_.require_encryption && !settings_.tls_offered)
      return fail("policy-violation", "encryption is required and this server has no certificate");
    std::string f = "<stream:features>";
    if (!secure_ && settings_.tls_offered)
      f += settings_.require_encryption ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                                        : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    if (secure_ || !settings_.require_encryption) f += "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>";
    f += "</stream:features>";
    output_ += f;
    state_ = state::features;
    return;
  }
  if (!e.node.is(ns::streams, "stream") || e.default_ns != ns::server)
    return fail("invalid-namespace", "expected a jabber:server stream");
  stream_id_ = std::string(e.node.attr("id"));
  if (stream_id_.empty()) return fail("invalid-id", "the stream header has no id");
  if (!version_1(e.node.attr("version"))) {
    // A pre-1.0 server sends no features: dialback at once, if the stream may stay unencrypted.
    if (settings_.require_encryption) return fail("policy-violation", "encryption is required");
    return start_dialback();
  }
  state_ = state::features;
}

void s2s_stream::on_element(xml::element& e) {
  if (e.is(ns::streams, "error")) {
    std::string condition = "undefined-condition";
    for (const auto& c : e.children())
      if (!c.is_text() && c.ns() == ns::stream_errors && c.name() != "text") condition = c.name();
    state_ = state::closed;
    auto ev = make(s2s_event::kind::closed, local_, remote_);
    ev.reason = "the peer sent a stream error: " + condition;
    const std::string text = e.child_text(ns::stream_errors, "text");
    if (!text.empty()) ev.reason += " (" + text + ")";
    output_ += "</stream:stream>";
    emit(std::move(ev));
    return;
  }
  if (role_ == role::incoming) return on_incoming_element(e);
  if (e.is(ns::streams, "features")) {
    if (state_ != state::features) return;
    return on_features(e);
  }
  if (e.ns() == ns::tls && state_ == state::tls) {
    if (e.name() != "proceed") return fail("undefined-condition", "the peer refused STARTTLS");
    awaiting_tls_ = true;
    emit(make(s2s_event::kind::starttls, local_, remote_));
    return;
  }
  if (e.is(dialback_ns, "result") && state_ == state::dialback) {
    if (e.attr("from") != remote_ || e.attr("to") != local_) return fail("invalid-from", "a dialback result for another pair");
    if (e.attr("type") != "valid") {
      auto ev = make(s2s_event::kind::closed, local_, remote_);
      ev.reason = "the peer did not accept this server's dialback key (" + std::string(e.attr("type")) + ")";
      output_ += "</stream:stream>";
      state_ = state::closed;
      emit(std::move(ev));
      return;
    }
    state_ = state::ready;
    emit(make(s2s_event::kind::authenticated, local_, remote_));
    return;
  }
  if (e.is(dialback_ns, "verify") && (state_ == state::dialback || state_ == state::ready)) {
    auto ev = make(s2s_event::kind::verify_answer, std::string(e.attr("to")), std::string(e.attr("from")));
    ev.id = std::string(e.attr("id"));
    ev.valid = e.attr("type") == "valid";
    emit(std::move(ev));
    return;
  }
  // Anything else on a stream that carries nothing this way (RFC 6120 §4.2) is ignored.
}

void s2s_stream::on_features(const xml::element& features) {
  if (!secure_ && features.child(ns::tls, "starttls")) {
    output_ += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    state_ = state::tls;
    return;
  }
  if (!secure_ && settings_.require_encryption)
    return fail("policy-violation", "encryption is required and the peer offers no STARTTLS");
  start_dialback();
}

void s2s_stream::start_dialback() {
  output_ += "<db:result";
  attribute(output_, "from", local_);
  attribute(output_, "to", remote_);
  output_ += '>';
  output_ += dialback_key(settings_.secret, remote_, local_, stream_id_);
  output_ += "</db:result>";
  state_ = state::dialback;
  send_verify_requests();
}

void s2s_stream::ask_verify(const std::string& id, const std::string& key) {
  verify_requests_.emplace_back(id, key);
  if (state_ == state::dialback || state_ == state::ready) send_verify_requests();
}

void s2s_stream::send_verify_requests() {
  for (const auto& [id, key] : verify_requests_) {
    output_ += "<db:verify";
    attribute(output_, "from", local_);
    attribute(output_, "to", remote_);
    attribute(output_, "id", id);
    output_ += '>';
    xml::escape(key, output_, false);
    output_ += "</db:verify>";
  }
  verify_requests_.clear();
}

void s2s_stream::tls_started() {
  if (!awaiting_tls_ || state_ == state::closed) return;
  awaiting_tls_ = false;
  secure_ = true;
  // A new stream, encrypted (RFC 6120 §5.4.3.3): nothing read before counts.
  parser_.reset();
  state_ = state::header;
  if (role_ == role::outgoing) send_header();
  pump();
}

void s2s_stream::send_stanza(const xml::element& stanza) {
  if (state_ != state::ready) return;
  xml::element copy = stanza;
  copy.move_namespace(ns::client, ns::server);
  xml::write(copy, output_, ns::server);
}

void s2s_stream::on_incoming_element(xml::element& e) {
  if (state_ != state::features) return fail("not-authorized", "the stream is not open");
  if (e.ns() == ns::tls && e.name() == "starttls") {
    if (secure_ || !settings_.tls_offered) {
      output_ += "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
      return fail("undefined-condition", "STARTTLS is not offered here");
    }
    output_ += "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    awaiting_tls_ = true;
    emit(make(s2s_event::kind::starttls, local_, remote_));
    return;
  }
  if (e.is(dialback_ns, "verify")) return on_db_verify(e);
  if (!secure_ && settings_.require_encryption) return fail("policy-violation", "STARTTLS first");
  if (e.is(dialback_ns, "result")) return on_db_result(e);
  if (e.ns() == ns::server && is_stanza_name(e.name())) return on_incoming_stanza(e);
  if (e.ns() == ns::sasl) return fail("policy-violation", "this server authenticates servers by dialback");
  fail("unsupported-stanza-type", "only stanzas and dialback");
}

// The peer says it is `from` (XEP-0220 §2.1.2): its own server has to confirm the key.
void s2s_stream::on_db_result(const xml::element& e) {
  if (e.has("type")) return;  // an answer to nothing this side asked
  const std::string to(e.attr("to")), from(e.attr("from"));
  if (to.empty() || from.empty() || !valid_domain(from)) return fail("improper-addressing", "a dialback request needs from and to");
  if (!is_local(to)) return fail("host-unknown", "this server does not serve " + to);
  if (is_local(from)) return fail("invalid-from", "a peer cannot be this server");
  const std::string pair = pair_key(to, from);
  const std::string key = e.text();
  if (key.empty() || key.size() > 1024) return fail("not-authorized", "no usable dialback key");
  if (verified_.count(pair)) {
    output_ += "<db:result";
    attribute(output_, "from", to);
    attribute(output_, "to", from);
    output_ += " type='valid'/>";
    return;
  }
  if (!claimed_.insert(pair).second) return;  // asked already
  if (claimed_.size() > 64) return fail("policy-violation", "too many domains on one stream");
  auto ev = make(s2s_event::kind::verify_needed, to, from);
  ev.id = stream_id_;
  ev.key = key;
  emit(std::move(ev));
}

void s2s_stream::verified(const std::string& local, const std::string& remote, bool valid) {
  if (state_ == state::closed || !claimed_.erase(pair_key(local, remote))) return;
  output_ += "<db:result";
  attribute(output_, "from", local);
  attribute(output_, "to", remote);
  output_ += valid ? " type='valid'/>" : " type='invalid'/>";
  if (!valid) return;  // the peer ends its stream; stanzas for that domain stay refused
  verified_.insert(pair_key(local, remote));
  emit(make(s2s_event::kind::authenticated, local, remote));
}

// The peer asks whether a key it was given on its own stream is this server's (XEP-0220 §2.1.3).
void s2s_stream::on_db_verify(const xml::element& e) {
  if (e.has("type")) return;
  const std::string_view to = e.attr("to"), from = e.attr("from"), id = e.attr("id");
  if (!is_local(to) || from.empty() || id.empty()) return fail("improper-addressing", "a dialback verification needs from, to and id");
  const std::string key = e.text();
  const std::string expected = dialback_key(settings_.secret, from, to, id);
  const bool valid = !expected.empty() && key.size() == expected.size() &&
                     std::equal(key.begin(), key.end(), expected.begin());
  output_ += "<db:verify";
  attribute(output_, "from", to);
  attribute(output_, "to", from);
  attribute(output_, "id", id);
  output_ += valid ? " type='valid'/>" : " type='invalid'/>";
}

void s2s_stream::on_incoming_stanza(xml::element& e) {
  const auto from = jid::parse(e.attr("from"));
  const auto to = jid::parse(e.attr("to"));
  if (!from || !to) return fail("improper-addressing", "a stanza between servers names its sender and recipient");
  if (!is_local(to->domain())) return fail("host-unknown", "this server does not serve " + to->domain());
  if (!verified_.count(pair_key(to->domain(), from->domain())))
    return fail(verified_.empty() ? "not-authorized" : "invalid-from", "the sender's domain is not verified on this stream");
  e.move_namespace(ns::server, ns::client);
  e.set("from", from->str());
  e.set("to", to->str());
  auto ev = make(s2s_event::kind::stanza, to->domain(), from->domain());
  ev.stanza = std::make_shared<xml::element>(std::move(e));
  emit(std::move(ev));
}

}  // namespace junction::xmpp
