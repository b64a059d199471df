// Message archives (XEP-0313, MAM) on an account's home shard: what the account sends and
// receives is written to the user store (on its worker) with an id the recipient's copy carries
// as its stanza-id (XEP-0359), and queries page through it (XEP-0059).

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "users/user_directory.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/random_id.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

constexpr std::size_t max_page = 250;
constexpr std::size_t default_page = 50;
constexpr std::string_view rsm_ns = "http://jabber.org/protocol/rsm";
constexpr std::string_view data_ns = "jabber:x:data";

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss](Z|(+|-)hh:mm), as microseconds since the epoch.
std::optional<std::int64_t> parse_datetime(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || std::sscanf(std::string(text.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month,
                                      &day, &hour, &minute, &second) != 6)
    return std::nullopt;
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (text[i] == '.') {
    ++i;
    int digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (digits < 6) micros = micros * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  int offset = 0;
  if (i < text.size() && text[i] == 'Z' && i + 1 == text.size()) {
  } else if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') && text[i + 3] == ':') {
    int h = 0, m = 0;
    if (std::sscanf(std::string(text.substr(i + 1)).c_str(), "%2d:%2d", &h, &m) != 2) return std::nullopt;
    offset = (h * 60 + m) * 60 * (text[i] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  return (static_cast<std::int64_t>(t) - offset) * 1000000 + micros;
}

std::string format_datetime(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us % 1000000));
  return buf;
}

xml::element error_iq(const xml::element& iq, const jid& to, std::string_view type, std::string_view condition,
                      std::string_view text = {}) {
  xml::element reply(std::string(ns::client), "iq");
  reply.set("type", "error").set("id", iq.attr("id")).set("to", to.str());
  auto& e = reply.add(std::string(ns::client), "error");
  e.set("type", type);
  e.add(std::string(ns::stanza_errors), std::string(condition));
  if (!text.empty()) e.add(std::string(ns::stanza_errors), "text").add_text(text);
  return reply;
}

// The query form (XEP-0313 §4.1.1): its fields into `q`; false for a form that is not right.
bool read_form(const xml::element& query, users::archive_query& q, std::string& why) {
  const xml::element* form = query.child(data_ns, "x");
  if (!form) return true;
  for (const auto& field : form->children()) {
    if (!field.is(data_ns, "field")) continue;
    const std::string_view var = field.attr("var");
    const std::string value = field.child_text(data_ns, "value");
    if (var == "FORM_TYPE") {
      if (value != ns::mam) return (why = "FORM_TYPE is not " + std::string(ns::mam)), false;
    } else if (var == "with") {
      const auto with = jid::parse(value);
      if (!with) return (why = "'with' is not a JID"), false;
      q.with = with->str();
      q.with_is_full = !with->is_bare();
    } else if (var == "start" || var == "end") {
      const auto when = parse_datetime(value);
      if (!when) return (why = "'" + std::string(var) + "' is not an XEP-0082 date and time"), false;
      (var == "start" ? q.start : q.end) = *when;
    } else if (var == "after-id") {
      q.after_id = value;
    } else if (var == "before-id") {
      q.before_id = value;
    } else {
      return (why = "unknown field '" + std::string(var) + "'"), false;
    }
  }
  return true;
}

void read_rsm(const xml::element& query, users::archive_query& q) {
  const xml::element* set = query.child(rsm_ns, "set");
  if (!set) return;
  if (const auto* max = set->child(rsm_ns, "max")) {
    const std::string text = max->text();
    std::size_t n = default_page;
    std::from_chars(text.data(), text.data() + text.size(), n);
    q.max = std::min(n, max_page);
  }
  if (const auto* after = set->child(rsm_ns, "after")) q.after_id = after->text();
  if (const auto* before = set->child(rsm_ns, "before")) {
    q.before_id = before->text();
    q.last_page = q.before_id.empty();
  }
}

bool archivable(const xml::element& m) {
  const std::string_view type = m.attr("type");
  if (type != "chat" && type != "normal" && !type.empty()) return false;
  if (!m.child(ns::client, "body")) return false;
  return !m.child(ns::hints, "no-store") && !m.child(ns::hints, "no-permanent-store");
}

}  // namespace

// An answer about `archive`'s archive to `to`: from the archive when the query was addressed to
// it (a room, or the account's bare JID), else from the server for the account (no from).
void shard_router::answer(const jid& to, const xml::element& iq, const jid& archive, xml::element reply) {
  if (iq.has("to")) reply.set("from", archive.bare_str());
  owner_.route(to, std::make_shared<xml::element>(std::move(reply)));
}

std::string shard_router::next_archive_id() { return random_id(12); }

stanza_ptr shard_router::archive_received(const jid& account, const stanza_ptr& message) {
  if (!owner_.config().archive || !archivable(*message)) return message;
  // A stanza-id in the account's name that someone else wrote is not believed (XEP-0359 §3.3).
  auto copy = std::make_shared<xml::element>(*message);
  const std::string bare = account.bare_str();
  std::erase_if(copy->children(), [&](const xml::element& c) { return c.is(ns::sid, "stanza-id") && c.attr("by") == bare; });
  const std::string id = next_archive_id();
  copy->add(std::string(ns::sid), "stanza-id").set("id", id).set("by", bare);
  const auto from = jid::parse(copy->attr("from"));
  keep_archived(bare, id, from ? *from : jid{}, *copy);
  return copy;
}

void shard_router::archive_sent(const jid& from, const xml::element& message) {
  if (!owner_.config().archive || !archivable(message)) return;
  const auto to = jid::parse(message.attr("to"));
  keep_archived(from.bare_str(), next_archive_id(), to ? *to : jid{}, message);
}

void shard_router::keep_archived(const std::string& owner, const std::string& id, const jid& with,
                                 const xml::element& message) {
  users::archived_message m;
  m.owner = owner;
  m.id = id;
  m.stamp = now_us();
  m.with_bare = with.empty() ? std::string{} : with.bare_str();
  m.with_full = with.empty() ? std::string{} : with.str();
  m.stanza = xml::to_string(message, ns::client);
  home_.metrics().add(owner_.metrics().archived);
  owner_.users().write("xmpp archive, keeping", [m = std::move(m)](users::user_store& s) { s.archive(m); });
  // Old messages go now and then (and at start).
  if (++archived_ % 1000 == 0) expire_archive();
}

void shard_router::forget_archive(const std::string& owner) {
  if (!owner_.config().archive) return;
  owner_.users().write("xmpp archive, forgetting", [owner](users::user_store& s) { s.forget_archive(owner); });
}

void shard_router::expire_archive() {
  const auto age = owner_.config().archive_expires_after;
  if (!owner_.config().archive || age.count() <= 0) return;
  const std::int64_t before = now_us() - std::chrono::duration_cast<std::chrono::microseconds>(age).count();
  owner_.users().write("xmpp archive, expiring", [before](users::user_store& s) { s.expire_archive(before); });
}

void shard_router::archive_iq(const jid& from, const stanza_ptr& iq, const jid& archive) {
  const std::string_view type = iq->attr("type");
  if (!owner_.config().archive) return answer(from, *iq, archive, error_iq(*iq, from, "cancel", "service-unavailable"));
  xml::element result(std::string(ns::client), "iq");
  result.set("type", "result").set("id", iq->attr("id")).set("to", from.str());
  if (const auto* prefs = iq->child(ns::mam, "prefs")) {
    // Every message is kept: that is the only setting (XEP-0313 §6, default "always").
    if (type != "get")
      return answer(from, *iq, archive, error_iq(
                                    *iq, from, "cancel", "feature-not-implemented", "every message is archived here"));
    auto& p = result.add(std::string(ns::mam), "prefs");
    p.set("default", "always");
    p.add(std::string(ns::mam), "always");
    p.add(std::string(ns::mam), "never");
    (void)prefs;
    return answer(from, *iq, archive, std::move(result));
  }
  const xml::element* query = iq->child(ns::mam, "query");
  if (!query) return answer(from, *iq, archive, error_iq(*iq, from, "cancel", "service-unavailable"));
  if (type == "get") {
    // The form a query may fill in (XEP-0313 §4.1.1).
    auto& x = result.add(std::string(ns::mam), "query").add(std::string(data_ns), "x");
    x.set("type", "form");
    auto field = [&](std::string_view var, std::string_view kind) -> xml::element& {
      return x.add(std::string(data_ns), "field").set("var", var).set("type", kind);
    };
    field("FORM_TYPE", "hidden").add(std::string(data_ns), "value").add_text(ns::mam);
    field("with", "jid-single");
    field("start", "text-single");
    field("end", "text-single");
    field("after-id", "text-single");
    field("before-id", "text-single");
    return answer(from, *iq, archive, std::move(result));
  }
  users::archive_query q;
  std::string why;
  if (!read_form(*query, q, why))
    return answer(from, *iq, archive, error_iq(*iq, from, "modify", "bad-request", why));
  read_rsm(*query, q);
  const std::string owner = archive.bare_str();
  const unsigned here = home_.index();
  auto& rt = owner_.rt();
  owner_.users().write("xmpp archive, querying", [this, here, &rt, owner, q, from, iq, archive](users::user_store& s) {
    auto page = std::make_shared<users::archive_page>(s.query_archive(owner, q));
    rt.post(here, [this, page, from, iq, archive] { answer_archive_query(from, iq, archive, *page); });
  });
}

void shard_router::answer_archive_query(const jid& from, const stanza_ptr& iq, const jid& archive,
                                        const users::archive_page& page) {
  if (page.unknown_id)
    return answer(from, *iq, archive, 
                                  error_iq(*iq, from, "cancel", "item-not-found", "no such message in the archive"));
  const xml::element* query = iq->child(ns::mam, "query");
  const std::string_view queryid = query ? query->attr("queryid") : std::string_view{};
  const std::string account = archive.bare_str();
  for (const auto& m : page.messages) {
    auto stanza = xml::parse_fragment(m.stanza, ns::client);
    if (!stanza) continue;
    auto out = std::make_shared<xml::element>(std::string(ns::client), "message");
    out->set("from", account).set("to", from.str());
    auto& result = out->add(std::string(ns::mam), "result");
    if (!queryid.empty()) result.set("queryid", queryid);
    result.set("id", m.id);
    auto& forwarded = result.add(std::string(ns::forward), "forwarded");
    forwarded.add("urn:xmpp:delay", "delay").set("stamp", format_datetime(m.stamp));
    forwarded.add(std::move(*stanza));
    owner_.route(from, std::move(out));
  }
  xml::element fin_iq(std::string(ns::client), "iq");
  fin_iq.set("type", "result").set("id", iq->attr("id")).set("to", from.str());
  auto& fin = fin_iq.add(std::string(ns::mam), "fin");
  if (page.complete) fin.set("complete", "true");
  auto& set = fin.add(std::string(rsm_ns), "set");
  if (!page.messages.empty()) {
    set.add(std::string(rsm_ns), "first").add_text(page.messages.front().id);
    set.add(std::string(rsm_ns), "last").add_text(page.messages.back().id);
  }
  set.add(std::string(rsm_ns), "count").add_text(std::to_string(page.count));
  answer(from, *iq, archive, std::move(fin_iq));
}

}  // namespace junction::xmpp
