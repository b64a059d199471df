#include "xmpp/c2s_stream.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "core/base64.hpp"
#include "xmpp/iq_reply.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/pep_account.hpp"
#include "xmpp/server_caps.hpp"

namespace junction::xmpp {
namespace {

std::string random_nonce() {
  unsigned char bytes[18];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "junction-no-random";
  return base64::encode({reinterpret_cast<const char*>(bytes), sizeof bytes});
}

bool is_subscription_type(std::string_view t) {
  return t == "subscribe" || t == "subscribed" || t == "unsubscribe" || t == "unsubscribed";
}

constexpr std::string_view framing_ns = "urn:ietf:params:xml:ns:xmpp-framing";

bool is_stanza_name(std::string_view n) { return n == "message" || n == "presence" || n == "iq"; }

c2s_event make_event(c2s_event::kind what, jid who = {}, std::string username = {},
                     std::shared_ptr<const xml::element> stanza = {}, std::string reason = {}) {
  c2s_event e;
  e.what = what;
  e.who = std::move(who);
  e.username = std::move(username);
  e.stanza = std::move(stanza);
  e.reason = std::move(reason);
  return e;
}

}  // namespace

c2s_stream::c2s_stream(c2s_settings settings, std::string stream_id)
    : settings_(std::move(settings)), stream_id_(std::move(stream_id)), parser_(settings_.limits) {
  if (!settings_.nonce) settings_.nonce = random_nonce;
  // Framed (RFC 7395), every message is one element: they are read as the children of a root
  // that stands for the stream, so that <open/>, <close/> and stanzas come as its children.
  if (settings_.framed) parser_.feed("<stream xmlns='jabber:client'>");
}

bool c2s_stream::is_local_domain(std::string_view domain) const {
  return std::find(settings_.domains.begin(), settings_.domains.end(), domain) != settings_.domains.end();
}

std::string c2s_stream::take_output() {
  if (settings_.framed) {
    std::string all;
    for (auto& f : std::exchange(frames_, {})) all += f;
    return all;
  }
  return std::exchange(output_, {});
}

std::vector<std::string> c2s_stream::take_frames() {
  if (settings_.framed) return std::exchange(frames_, {});
  std::vector<std::string> out;
  if (!output_.empty()) out.push_back(std::exchange(output_, {}));
  return out;
}
std::vector<c2s_event> c2s_stream::take_events() { return std::exchange(events_, {}); }

void c2s_stream::receive(std::string_view bytes) {
  if (state_ == state::closed) return;
  parser_.feed(bytes);
  pump();
}

void c2s_stream::pump() {
  while (state_ != state::closed && !awaiting_credentials_ && !awaiting_tls_ && !awaiting_resume_ && !awaiting_register_) {
    auto event = parser_.next();
    if (!event) return;
    if (settings_.framed && event->what == xml::stream_event::kind::open) continue;  // the root standing in
    if (settings_.framed && event->what == xml::stream_event::kind::stanza && event->node.ns() == framing_ns) {
      if (event->node.name() == "open") {
        on_framed_open(event->node);
        continue;
      }
      if (event->node.name() == "close") event->what = xml::stream_event::kind::close;
    }
    switch (event->what) {
      case xml::stream_event::kind::open: on_open(*event); break;
      case xml::stream_event::kind::stanza: on_stanza(event->node); break;
      case xml::stream_event::kind::close:
        send_raw(settings_.framed ? "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" : "</stream:stream>");
        state_ = state::closed;
        emit(make_event(c2s_event::kind::closed, {}, {}, {}, "the client closed its stream"));
        return;
      case xml::stream_event::kind::error:
        fail(xml::stream_error_condition(event->error), event->detail);
        return;
    }
  }
}

void c2s_stream::send_header() {
  // Sent before any check of the client's header: a stream error needs a stream to be in
  // (RFC 6120 §4.9.1.2).
  std::string h = settings_.framed ? "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='"
                                   : "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                     "xmlns:stream='http://etherx.jabber.org/streams' id='";
  xml::escape(stream_id_, h, true);
  h += "' version='1.0' xml:lang='en'";
  if (!domain_.empty()) {
    h += " from='";
    xml::escape(domain_, h, true);
    h += "'";
  }
  h += settings_.framed ? "/>" : ">";
  send_raw(h);
}

void c2s_stream::on_open(const xml::stream_event& e) {
  const auto to = jid::parse(e.node.attr("to"));
  if (to && to->local().empty() && to->is_bare()) domain_ = to->domain();
  send_header();
  if (!e.node.is(ns::streams, "stream")) return fail("invalid-namespace", "the root must be <stream:stream>");
  if (e.default_ns != ns::client) return fail("invalid-namespace", "this port speaks jabber:client");
  open_stream(to, e.node.attr("version"));
}

// RFC 7395 §3.3.1: <open to='…' version='1.0'/> stands for the stream header.
void c2s_stream::on_framed_open(const xml::element& open) {
  if (state_ != state::header && state_ != state::restart) return fail("not-authorized", "the stream is open");
  const auto to = jid::parse(open.attr("to"));
  if (to && to->local().empty() && to->is_bare()) domain_ = to->domain();
  send_header();
  open_stream(to, open.attr("version"));
}

void c2s_stream::open_stream(const std::optional<jid>& to, std::string_view version) {
  if (!to || !is_local_domain(domain_)) return fail("host-unknown", "this server does not serve that domain");
  if (!settings_.secure && !settings_.allow_plain && !settings_.tls_offered)
    return fail("policy-violation", "unencrypted streams are accepted from loopback addresses only");
  if (version.empty() || version.substr(0, version.find('.')) < "1") return fail("unsupported-version");
  if (state_ == state::header) state_ = state::auth;
  else if (state_ == state::restart) state_ = state::bind;
  send_features();
}

void c2s_stream::send_features() {
  std::string f = settings_.framed ? "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
                                   : "<stream:features>";
  if (state_ == state::auth) {
    const bool must_encrypt = !settings_.secure && (settings_.tls_required || !settings_.allow_plain);
    if (!settings_.secure && settings_.tls_offered)
      f += must_encrypt ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                        : "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    if (!must_encrypt) {
      f += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
      if (plus_offered()) f += "<mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism>";
      f += "<mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1</mechanism>";
      if (settings_.secure) f += "<mechanism>PLAIN</mechanism>";
      f += "</mechanisms>";
      if (settings_.registration) f += "<register xmlns='http://jabber.org/features/iq-register'/>";
      // XEP-0440: which channel bindings the -PLUS mechanisms take here.
      if (plus_offered()) {
        f += "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>";
        for (const auto& b : settings_.bindings)
          if (!b.data.empty() && b.type != "tls-unique") f += "<channel-binding type='" + b.type + "'/>";
        f += "</sasl-channel-binding>";
      }
    }
  } else {
    f += "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>";
    if (settings_.sm_offered) f += "<sm xmlns='urn:xmpp:sm:3'/>";
    f += "<csi xmlns='urn:xmpp:csi:0'/>";
  }
  f += caps_element(settings_.identity_name);
  f += "</stream:features>";
  send_raw(f);
}

bool c2s_stream::plus_offered() const {
  return std::any_of(settings_.bindings.begin(), settings_.bindings.end(),
                     [](const auto& b) { return !b.data.empty(); });
}

void c2s_stream::tls_from_the_start(std::vector<users::scram_server::binding> bindings) {
  settings_.secure = true;
  settings_.bindings = std::move(bindings);
}

void c2s_stream::tls_started(std::vector<users::scram_server::binding> bindings) {
  if (!awaiting_tls_ || state_ == state::closed) return;
  awaiting_tls_ = false;
  settings_.secure = true;
  settings_.bindings = std::move(bindings);
  // A new stream, encrypted (RFC 6120 §5.4.3.3): nothing read before counts.
  parser_.reset();
  state_ = state::header;
  pump();
}

void c2s_stream::send(const xml::element& e) {
  if (sm_.enabled && state_ == state::ready) return count_sent(std::make_shared<const xml::element>(e));
  write_element(e);
}

void c2s_stream::write_element(const xml::element& e) {
  // Framed, every message names its namespace (RFC 7395 §3.3.3).
  if (!settings_.framed) return xml::write(e, output_, ns::client);
  frames_.emplace_back();
  xml::write(e, frames_.back(), {});
}

void c2s_stream::fail(std::string_view condition, std::string_view text) {
  if (state_ == state::closed) return;
  std::string out = settings_.framed ? "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><" : "<stream:error><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>";
    xml::escape(text, out, false);
    out += "</text>";
  }
  out += "</stream:error>";
  send_raw(out);
  send_raw(settings_.framed ? "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" : "</stream:stream>");
  state_ = state::closed;
  std::string reason = std::string(condition);
  if (!text.empty()) reason += ": " + std::string(text);
  emit(make_event(c2s_event::kind::closed, {}, {}, {}, std::move(reason)));
}

void c2s_stream::on_stanza(xml::element& stanza) {
  switch (state_) {
    case state::auth:
      if (stanza.is(ns::tls, "starttls")) {
        if (settings_.secure || !settings_.tls_offered) {
          send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
          return fail("undefined-condition", "STARTTLS is not offered here");
        }
        send_raw("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        awaiting_tls_ = true;
        emit(make_event(c2s_event::kind::starttls));
        return;
      }
      if (!settings_.secure && (settings_.tls_required || !settings_.allow_plain))
        return fail("policy-violation", "STARTTLS first");
      if (stanza.ns() == ns::sasl) return on_sasl(stanza);
      if (stanza.is(ns::client, "iq") && stanza.child(ns::iq_register, "query")) return on_register(stanza, false);
      return fail("not-authorized", "authenticate first");
    case state::bind:
      if (stanza.ns() == ns::sm) return on_sm(stanza);
      if (stanza.is(ns::client, "iq") && stanza.child(ns::bind, "bind")) return on_bind(stanza);
      if (stanza.is(ns::client, "iq")) return reply_error(stanza, "auth", "not-authorized");
      return fail("not-authorized", "bind a resource first");
    case state::ready:
      if (stanza.ns() == ns::sm) return on_sm(stanza);
      if (stanza.ns() == ns::csi) return on_csi(stanza);
      if (sm_.enabled) ++sm_.handled_in;  // every element that is not a nonza (XEP-0198 §4)
      return on_client_stanza(stanza);
    default: return fail("not-authorized");
  }
}

void c2s_stream::on_sasl(const xml::element& e) {
  if (e.name() == "abort") {
    scram_.reset();
    return send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>");
  }
  if (e.name() == "auth") {
    mechanism_ = std::string(e.attr("mechanism"));
    const bool plus = mechanism_.ends_with("-PLUS");
    const std::string_view base = std::string_view(mechanism_).substr(0, mechanism_.size() - (plus ? 5 : 0));
    const std::string text = e.text();
    if (mechanism_ == "PLAIN" && settings_.secure) {
      scram_.reset();
      if (text.empty() || text == "=") return send_raw("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
      return plain(text);
    }
    if ((base != "SCRAM-SHA-256" && base != "SCRAM-SHA-1") || (plus && !plus_offered())) {
      scram_.reset();
      return send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><invalid-mechanism/></failure>");
    }
    scram_ = std::make_unique<users::scram_server>(
        base == "SCRAM-SHA-1" ? users::scram_hash::sha1 : users::scram_hash::sha256, plus, settings_.bindings,
        plus_offered());
    // No initial response (or "=": an empty one): an empty challenge asks for it.
    if (text.empty() || text == "=") return send_raw("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    return sasl_step(text);
  }
  if (e.name() == "response" && scram_) return sasl_step(e.text());
  if (e.name() == "response" && mechanism_ == "PLAIN" && settings_.secure && plain_username_.empty())
    return plain(e.text());
  sasl_failure("malformed-request");
}

void c2s_stream::sasl_step(std::string_view client_message) {
  auto decoded = base64::decode(client_message);
  if (!decoded) return sasl_failure("incorrect-encoding");
  if (!scram_->username().empty()) {
    // client-final-message
    std::string final_message;
    if (auto ec = scram_->client_final(*decoded, final_message)) {
      const std::string name = scram_->username();
      scram_.reset();
      return sasl_failure(ec == users::scram_errc::invalid_proof ? "not-authorized" : "malformed-request", name);
    }
    const std::string username = scram_->username();
    scram_.reset();
    return sasl_success(username, final_message);
  }
  if (auto ec = scram_->client_first(*decoded)) {
    const std::string name = scram_->username();
    scram_.reset();
    return sasl_failure(ec == users::scram_errc::malformed ? "malformed-request" : "not-authorized", name);
  }
  if (!scram_->authzid().empty() && scram_->authzid() != scram_->username() + "@" + domain_) {
    const std::string name = scram_->username();
    scram_.reset();
    return sasl_failure("invalid-authzid", name);
  }
  awaiting_credentials_ = true;
  emit(make_event(c2s_event::kind::need_credentials, jid::make({}, domain_).value_or(jid{}), scram_->username()));
}

void c2s_stream::credentials(std::optional<users::user_record> user) {
  if (!awaiting_credentials_ || state_ == state::closed) return;
  if (!scram_) {
    awaiting_credentials_ = false;
    plain_check(user ? &*user : nullptr);
    return pump();
  }
  awaiting_credentials_ = false;
  const users::scram_keys none;
  const users::scram_keys* keys = &none;
  if (user) keys = mechanism_.starts_with("SCRAM-SHA-1") ? &user->scram_sha1 : &user->scram_sha256;
  // An unknown user gets made-up keys from the stream id (no secret worth keeping across
  // streams is needed: the exchange fails at the proof either way).
  const std::string first = scram_->server_first(*keys, settings_.nonce(), stream_id_);
  send_raw("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64::encode(first) + "</challenge>");
  pump();
}

void c2s_stream::sasl_success(const std::string& username, std::string_view server_final) {
  const auto who = jid::make(username, domain_);
  if (!who) return sasl_failure("not-authorized", username);
  address_ = *who;
  send_raw("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
           (server_final.empty() ? std::string{} : base64::encode(server_final)) + "</success>");
  emit(make_event(c2s_event::kind::authenticated, address_));
  state_ = state::restart;
  // Channel bindings serve SASL alone: an idle stream need not keep them.
  std::vector<users::scram_server::binding>().swap(settings_.bindings);
  if (!settings_.framed) parser_.restart();  // framed, the next <open/> is the new stream's header
}

// PLAIN (RFC 4616): [authzid] NUL authcid NUL password, over TLS only. The password is checked
// against the SCRAM-SHA-256 keys (derived again with the user's salt), then wiped.
void c2s_stream::plain(std::string_view message) {
  auto decoded = base64::decode(message);
  if (!decoded) return sasl_failure("incorrect-encoding");
  const auto first = decoded->find('\0');
  const auto second = first == std::string::npos ? std::string::npos : decoded->find('\0', first + 1);
  if (second == std::string::npos || decoded->find('\0', second + 1) != std::string::npos) {
    OPENSSL_cleanse(decoded->data(), decoded->size());
    return sasl_failure("malformed-request");
  }
  const std::string authzid = decoded->substr(0, first);
  plain_username_ = decoded->substr(first + 1, second - first - 1);
  plain_password_ = decoded->substr(second + 1);
  OPENSSL_cleanse(decoded->data(), decoded->size());
  if (plain_username_.empty() || plain_password_.empty() ||
      (!authzid.empty() && authzid != plain_username_ + "@" + domain_)) {
    OPENSSL_cleanse(plain_password_.data(), plain_password_.size());
    const std::string name = std::exchange(plain_username_, {});
    return sasl_failure(authzid.empty() ? "malformed-request" : "invalid-authzid", name);
  }
  awaiting_credentials_ = true;
  emit(make_event(c2s_event::kind::need_credentials, jid::make({}, domain_).value_or(jid{}), plain_username_));
}

void c2s_stream::plain_check(const users::user_record* user) {
  bool ok = false;
  if (user && !user->scram_sha256.empty()) {
    const auto& k = user->scram_sha256;
    const auto derived = users::derive_scram_keys(users::scram_hash::sha256, plain_password_, k.salt, k.iterations);
    ok = derived.stored_key.size() == k.stored_key.size() &&
         CRYPTO_memcmp(derived.stored_key.data(), k.stored_key.data(), k.stored_key.size()) == 0;
  }
  OPENSSL_cleanse(plain_password_.data(), plain_password_.size());
  plain_password_.clear();
  const std::string username = std::exchange(plain_username_, {});
  if (!ok) return sasl_failure("not-authorized", username);
  sasl_success(username, {});
}

void c2s_stream::refuse_credentials(std::string_view condition) {
  if (!awaiting_credentials_ || state_ == state::closed) return;
  awaiting_credentials_ = false;
  scram_.reset();
  OPENSSL_cleanse(plain_password_.data(), plain_password_.size());
  plain_password_.clear();
  plain_username_.clear();
  // Not counted as a failed guess (nothing was checked), but as an attempt of the stream's.
  send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><" + std::string(condition) + "/></failure>");
  if (++auth_failures_ >= settings_.max_auth_failures) return fail("policy-violation", "too many failed authentications");
  pump();
}

void c2s_stream::sasl_failure(std::string_view condition, std::string_view username) {
  send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><" + std::string(condition) + "/></failure>");
  emit(make_event(c2s_event::kind::auth_failed, jid::make({}, domain_).value_or(jid{}), std::string(username)));
  if (++auth_failures_ >= settings_.max_auth_failures) fail("policy-violation", "too many failed authentications");
}

void c2s_stream::on_bind(xml::element& iq) {
  if (iq.attr("type") != "set") return reply_error(iq, "modify", "bad-request");
  std::string resource = iq.child(ns::bind, "bind")->child_text(ns::bind, "resource");
  if (resource.empty()) resource = "junction-" + stream_id_ + (resources_made_++ ? std::to_string(resources_made_) : "");
  if (!valid_resource(resource)) return reply_error(iq, "modify", "bad-request");
  address_ = address_.with_resource(resource);
  xml::element result = iq_result(iq);
  result.erase("from");
  result.add(std::string(ns::bind), "bind").add(std::string(ns::bind), "jid").add_text(address_.str());
  send(result);
  state_ = state::ready;
  emit(make_event(c2s_event::kind::bound, address_));
}

void c2s_stream::reply_error(const xml::element& stanza, std::string_view type, std::string_view condition) {
  if (stanza.attr("type") == "error") return;  // never an error for an error (RFC 6120 §8.3.1)
  xml::element e = stanza;
  e.set("type", "error");
  if (stanza.has("from")) e.set("to", stanza.attr("from"));
  else e.erase("to");
  if (stanza.has("to")) e.set("from", stanza.attr("to"));
  else e.erase("from");
  auto& error = e.add(std::string(ns::client), "error");
  error.set("type", type);
  error.add(std::string(ns::stanza_errors), std::string(condition));
  send(e);
}

void c2s_stream::on_client_stanza(xml::element& stanza) {
  if (stanza.ns() != ns::client || !is_stanza_name(stanza.name()))
    return fail("unsupported-stanza-type", "only message, presence and iq are stanzas");
  // The server says who sent it (RFC 6120 §8.1.2.1): a client may name itself, nobody else.
  if (stanza.has("from")) {
    const auto from = jid::parse(stanza.attr("from"));
    if (!from || (*from != address_ && *from != address_.bare())) return fail("invalid-from");
  }
  stanza.set("from", address_.str());
  const std::string_view type = stanza.attr("type");
  if (stanza.name() == "iq") {
    if (stanza.attr("id").empty() ||
        (type != "get" && type != "set" && type != "result" && type != "error"))
      return reply_error(stanza, "modify", "bad-request");
  }
  std::optional<jid> to;
  if (stanza.has("to")) {
    to = jid::parse(stanza.attr("to"));
    if (!to) {
      if (stanza.name() != "presence") reply_error(stanza, "modify", "jid-malformed");
      return;
    }
    stanza.set("to", to->str());
  }
  if (stanza.name() == "iq" && (!to || *to == address_.bare() || (to->local().empty() && is_local_domain(to->domain()) && to->is_bare())))
    return on_iq_for_server(stanza, !to || *to == address_.bare());
  if (stanza.name() == "presence" && to && is_subscription_type(type)) {
    // Subscriptions are the account's, not one resource's (RFC 6121 §3.1.2): from the bare JID.
    stanza.set("from", address_.bare().str());
    const jid contact = to->bare();
    stanza.set("to", contact.str());
    emit(make_event(c2s_event::kind::subscription, contact, {}, std::make_shared<xml::element>(std::move(stanza))));
    return;
  }
  if (stanza.name() == "presence" && type == "probe") return;  // the server's to send, not a client's
  if (stanza.name() == "presence" && !to) {
    emit(make_event(c2s_event::kind::broadcast, address_, {}, std::make_shared<xml::element>(std::move(stanza))));
    return;
  }
  if (!to) {
    to = address_.bare();  // a message to nobody is for the sender's own account (RFC 6120 §10.3)
    stanza.set("to", to->str());
  }
  emit(make_event(c2s_event::kind::route, *to, {}, std::make_shared<xml::element>(std::move(stanza))));
}

void c2s_stream::on_iq_for_server(const xml::element& iq, bool to_self) {
  const std::string_view type = iq.attr("type");
  if (type == "result" || type == "error") {
    // An answer to the account's own services (a caps query its eventing service asked, from the
    // bare JID): to its home; one to the server itself answers nothing it asked.
    if (to_self && iq.has("id"))
      emit(make_event(c2s_event::kind::route, address_.bare(), {}, std::make_shared<xml::element>(iq)));
    return;
  }
  const xml::element* payload = nullptr;
  std::size_t children = 0;
  for (const auto& c : iq.children())
    if (!c.is_text()) {
      payload = &c;
      ++children;
    }
  if (children != 1) return reply_error(iq, "modify", "bad-request");
  if ((payload->is(ns::roster, "query") || (payload->ns() == ns::mam && settings_.archive) ||
       payload->is(ns::vcard, "vCard") || payload->is(ns::private_xml, "query") || payload->ns() == ns::blocking ||
       payload->is(pep_ns::pubsub, "pubsub") ||
       payload->is(pep_ns::owner, "pubsub") || (payload->is(ns::disco_items, "query") && type == "get")) &&
      to_self) {
    emit(make_event(c2s_event::kind::account_iq, address_, {}, std::make_shared<xml::element>(iq)));
    return;
  }
  xml::element result = iq_result(iq);
  result.erase("from");
  if (!to_self) result.set("from", iq.attr("to"));
  if (payload->is(ns::ping, "ping") && type == "get") return send(result);
  if (payload->ns() == ns::carbons && (payload->name() == "enable" || payload->name() == "disable") && type == "set") {
    send(result);
    emit(make_event(c2s_event::kind::carbons, address_, {}, {}, payload->name()));
    return;
  }
  if (payload->is(ns::session, "session") && type == "set") return send(result);
  if (payload->is(ns::iq_register, "query")) return on_register(iq, true);
  // The server's own node for its capabilities (XEP-0115) says what the server says.
  const std::string caps = std::string(caps_node) + "#" + caps_ver("server", "im", settings_.identity_name, server_features());
  if (payload->is(ns::disco_info, "query") && type == "get" && (!payload->has("node") || (!to_self && payload->attr("node") == caps))) {
    auto& query = result.add(std::string(ns::disco_info), "query");
    if (payload->has("node")) query.set("node", caps);
    auto& identity = query.add(std::string(ns::disco_info), "identity");
    if (to_self) {
      identity.set("category", "account").set("type", "registered");
      query.add(std::string(ns::disco_info), "identity").set("category", "pubsub").set("type", "pep");
      for (std::string_view feature : pep_features()) query.add(std::string(ns::disco_info), "feature").set("var", feature);
      if (settings_.archive)
        for (std::string_view feature : {ns::mam, ns::sid})
          query.add(std::string(ns::disco_info), "feature").set("var", feature);
    } else {
      identity.set("category", "server").set("type", "im").set("name", settings_.identity_name);
      for (std::string_view feature : server_features()) query.add(std::string(ns::disco_info), "feature").set("var", feature);
    }
    return send(result);
  }
  if (payload->is(ns::disco_items, "query") && type == "get") {
    auto& items = result.add(std::string(ns::disco_items), "query");
    if (!to_self && !settings_.muc_subdomain.empty())
      items.add(std::string(ns::disco_items), "item").set("jid", settings_.muc_subdomain + "." + domain_).set("name", "Chat rooms");
    if (!to_self && !settings_.upload_subdomain.empty())
      items.add(std::string(ns::disco_items), "item").set("jid", settings_.upload_subdomain + "." + domain_).set("name", "HTTP file upload");
    return send(result);
  }
  reply_error(iq, "cancel", "service-unavailable");
}

void c2s_stream::deliver(const std::shared_ptr<const xml::element>& stanza) {
  if (state_ != state::ready) return;
  // An inactive client (XEP-0352) gets presence changes later, only the last of each sender's,
  // with the next thing that matters or when it is active again.
  if (inactive_ && stanza->name() == "presence" && (stanza->attr("type").empty() || stanza->attr("type") == "unavailable")) {
    const std::string_view from = stanza->attr("from");
    auto same = std::find_if(held_presence_.begin(), held_presence_.end(),
                             [&](const auto& p) { return p->attr("from") == from; });
    if (same != held_presence_.end()) held_presence_.erase(same);
    held_presence_.push_back(stanza);
    if (held_presence_.size() >= 1000) flush_held_presence();
    return;
  }
  flush_held_presence();
  if (sm_.enabled) return count_sent(stanza);
  send(*stanza);
}

}  // namespace junction::xmpp
