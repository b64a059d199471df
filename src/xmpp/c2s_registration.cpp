// In-band registration (XEP-0077) for the client stream: an account made before logging in,
// when the server allows it (xmpp.registration), a password changed or an account removed after.
// The user store is behind a worker: the stream asks with an event and waits for registered().
#include <openssl/crypto.h>

#include "xmpp/c2s_stream.hpp"
#include "xmpp/namespaces.hpp"

namespace junction::xmpp {

void c2s_stream::on_register(const xml::element& iq, bool logged_in) {
  const xml::element* query = iq.child(ns::iq_register, "query");
  const std::string_view type = iq.attr("type");
  if (!query || (type != "get" && type != "set")) return reply_error(iq, "modify", "bad-request");
  if (!logged_in && !settings_.registration) return reply_error(iq, "cancel", "not-allowed");
  if (type == "get") {
    xml::element result(std::string(ns::client), "iq");
    result.set("type", "result").set("id", iq.attr("id"));
    auto& q = result.add(std::string(ns::iq_register), "query");
    if (logged_in) {
      q.add(std::string(ns::iq_register), "registered");
      q.add(std::string(ns::iq_register), "username").add_text(address_.local());
    } else {
      q.add(std::string(ns::iq_register), "instructions").add_text("Choose a user name and a password.");
      q.add(std::string(ns::iq_register), "username");
    }
    q.add(std::string(ns::iq_register), "password");
    return send(result);
  }
  c2s_event ev;
  ev.who = jid::make({}, domain_).value_or(jid{});
  if (query->child(ns::iq_register, "remove")) {
    if (!logged_in) return reply_error(iq, "auth", "not-authorized");
    ev.what = c2s_event::kind::unregister;
    ev.username = address_.local();
  } else {
    std::string username = query->child_text(ns::iq_register, "username");
    std::string password = query->child_text(ns::iq_register, "password");
    if (username.empty() || password.empty()) {
      OPENSSL_cleanse(password.data(), password.size());
      return reply_error(iq, "modify", "not-acceptable");
    }
    // Logged in, only one's own password changes (§3.3).
    if (logged_in && username != address_.local()) {
      OPENSSL_cleanse(password.data(), password.size());
      return reply_error(iq, "modify", "bad-request");
    }
    ev.what = logged_in ? c2s_event::kind::change_password : c2s_event::kind::register_account;
    ev.username = std::move(username);
    ev.password = std::move(password);
  }
  register_iq_ = std::make_unique<xml::element>(iq);
  awaiting_register_ = true;
  emit(std::move(ev));
}

void c2s_stream::registered(std::string_view condition) {
  if (!awaiting_register_ || state_ == state::closed) return;
  awaiting_register_ = false;
  auto iq = std::move(register_iq_);
  if (condition.empty()) {
    xml::element result(std::string(ns::client), "iq");
    result.set("type", "result").set("id", iq->attr("id"));
    send(result);
    if (iq->child(ns::iq_register, "query")->child(ns::iq_register, "remove"))
      return fail("not-authorized", "the account was removed");
  } else {
    reply_error(*iq, condition == "conflict" || condition == "not-allowed" ? "cancel" : "modify", condition);
  }
  pump();
}

}  // namespace junction::xmpp
