// Stream management (XEP-0198) for the client stream: acknowledgements both ways, and the
// resumption of a stream the client lost (the connection around finds the old stream's state).

#include <charconv>

#include "xmpp/c2s_stream.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/random_id.hpp"

namespace junction::xmpp {
namespace {

std::optional<std::uint32_t> read_h(std::string_view text) {
  std::uint32_t h = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return h;
}

std::string sm_failed(std::string_view condition, std::uint32_t h, bool with_h) {
  std::string out = "<failed xmlns='urn:xmpp:sm:3'";
  if (with_h) out += " h='" + std::to_string(h) + "'";
  out += "><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
  return out;
}

}  // namespace

void c2s_stream::on_sm(const xml::element& e) {
  const std::string& name = e.name();
  if (name == "enable") {
    if (!settings_.sm_offered || state_ != state::ready || sm_.enabled)
      return send_raw(sm_failed("unexpected-request", 0, false));
    sm_.enabled = true;
    const std::string_view resume = e.attr("resume");
    sm_.resumable = (resume == "true" || resume == "1") && !settings_.sm_id_prefix.empty();
    std::string out = "<enabled xmlns='urn:xmpp:sm:3'";
    if (sm_.resumable) {
      sm_.id = settings_.sm_id_prefix + random_id(15);
      out += " id='" + sm_.id + "' resume='true' max='" + std::to_string(settings_.sm_resume_seconds) + "'";
    }
    out += "/>";
    return send_raw(out);
  }
  if (name == "r") {
    if (!sm_.enabled) return fail("unsupported-stanza-type", "stream management is not enabled");
    return send_raw("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.handled_in) + "'/>");
  }
  if (name == "a") {
    if (!sm_.enabled) return fail("unsupported-stanza-type", "stream management is not enabled");
    const auto h = read_h(e.attr("h"));
    if (!h) return fail("invalid-xml", "<a/> needs a number h");
    sm_.ack_requested = false;
    return acknowledged(*h);
  }
  if (name == "resume") {
    const auto h = read_h(e.attr("h"));
    const std::string_view previd = e.attr("previd");
    if (state_ != state::bind || !h || previd.empty() || !settings_.sm_offered)
      return send_raw(sm_failed("unexpected-request", 0, false));
    awaiting_resume_ = true;
    resume_h_ = *h;
    c2s_event ev;
    ev.what = c2s_event::kind::resume;
    ev.who = address_;
    ev.reason = std::string(previd);
    ev.handled = *h;
    emit(std::move(ev));
    return;
  }
  fail("unsupported-stanza-type", "unknown stream management element");
}

void c2s_stream::acknowledged(std::uint32_t h) {
  const std::uint32_t newly = h - sm_.acked_out;  // mod 2^32
  if (newly > sm_.unacked.size())
    return fail("undefined-condition", "the client acknowledged more stanzas than were sent");
  sm_.unacked.erase(sm_.unacked.begin(), sm_.unacked.begin() + newly);
  sm_.acked_out = h;
}

void c2s_stream::count_sent(std::shared_ptr<const xml::element> stanza) {
  write_element(*stanza);
  sm_.unacked.push_back(std::move(stanza));
  if (sm_.unacked.size() > settings_.sm_max_unacked)
    return fail("policy-violation", "too many stanzas sent and not acknowledged");
  // One request at a time: the answer says how much of everything sent so far has arrived.
  if (!sm_.ack_requested) {
    sm_.ack_requested = true;
    send_raw("<r xmlns='urn:xmpp:sm:3'/>");
  }
}

void c2s_stream::resumed(const jid& address, sm_state state) {
  if (!awaiting_resume_ || state_ == state::closed) return;
  awaiting_resume_ = false;
  address_ = address;
  sm_ = std::move(state);
  sm_.ack_requested = false;
  state_ = state::ready;
  send_raw("<resumed xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.handled_in) + "' previd='" + sm_.id + "'/>");
  acknowledged(resume_h_);
  if (state_ == state::closed) return;
  // What the client did not get is sent again, in order, and counted again.
  auto again = std::exchange(sm_.unacked, {});
  for (auto& stanza : again) count_sent(std::move(stanza));
  c2s_event ev;
  ev.what = c2s_event::kind::resumed;
  ev.who = address_;
  emit(std::move(ev));
  pump();
}

void c2s_stream::on_csi(const xml::element& e) {
  if (e.name() == "active") {
    inactive_ = false;
    flush_held_presence();
  } else if (e.name() == "inactive") {
    inactive_ = true;
  }
}

void c2s_stream::flush_held_presence() {
  for (auto& p : std::exchange(held_presence_, {})) {
    if (sm_.enabled) count_sent(std::move(p));
    else write_element(*p);
  }
}

void c2s_stream::resume_failed() {
  if (!awaiting_resume_ || state_ == state::closed) return;
  awaiting_resume_ = false;
  send_raw(sm_failed("item-not-found", 0, false));
  pump();
}

}  // namespace junction::xmpp
