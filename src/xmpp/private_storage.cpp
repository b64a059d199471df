// Private XML storage (XEP-0049) on the account's home shard: one element per namespace, kept in
// the user store (read and written on its worker), for the account's own resources only. Old
// clients keep their bookmarks there (XEP-0048, storage:bookmarks): those are the account's
// XEP-0402 node (bookmarks_compat.hpp), read from it and written to it, so that new clients are
// told of an old one's changes; only URL bookmarks stay in private storage.
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "users/user_directory.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/bookmarks_compat.hpp"
#include "xmpp/iq_reply.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace {

constexpr std::size_t max_element_bytes = 64 * 1024;
constexpr std::size_t max_namespaces = 64;
constexpr std::size_t max_total_bytes = 1024 * 1024;

}  // namespace

void shard_router::private_iq(const jid& from, const stanza_ptr& iq) {
  auto answer = [this, from](std::shared_ptr<xml::element> reply) {
    reply->erase("from");
    reply->set("to", from.str());
    owner_.route(from, std::move(reply));
  };
  const std::string_view type = iq->attr("type");
  const xml::element* query = iq->child(ns::private_xml, "query");
  const xml::element* payload = nullptr;
  std::size_t elements = 0;
  for (const auto& c : query->children())
    if (!c.is_text()) {
      payload = &c;
      ++elements;
    }
  if ((type != "get" && type != "set") || elements != 1)
    return answer(shared(iq_error(*iq, "modify", "bad-request", "one element to get or set")));
  // Not the protocol's own namespaces (XEP-0049 §3).
  if (payload->ns().empty() || payload->ns().starts_with("jabber:"))
    return answer(shared(iq_error(*iq, "modify", "not-acceptable", "not a namespace for private storage")));
  const std::string owner = from.bare_str();
  const std::string space = payload->ns();
  const unsigned here = home_.index();
  auto& rt = owner_.rt();
  if (type == "get") {
    owner_.users().write("xmpp private storage, reading", [this, here, &rt, owner, space, from, iq,
                                                           answer](users::user_store& s) {
      auto text = std::make_shared<std::optional<std::string>>(s.private_xml(owner, space));
      rt.post(here, [this, text, from, iq, answer] {
        std::shared_ptr<xml::element> kept;
        if (*text)
          if (auto e = xml::parse_fragment(**text, ns::client)) kept = std::make_shared<xml::element>(std::move(*e));
        if (iq->child(ns::private_xml, "query")->child(bookmarks_ns::legacy, "storage"))
          return legacy_bookmarks_iq(from, iq, std::move(kept));
        auto reply = shared(iq_result(*iq));
        auto& q = reply->add(std::string(ns::private_xml), "query");
        if (kept) {
          q.add(std::move(*kept));
        } else {
          for (const auto& c : iq->child(ns::private_xml, "query")->children())
            if (!c.is_text()) q.add(xml::element(c.ns(), c.name()));  // nothing kept: the element, empty
        }
        answer(std::move(reply));
      });
    });
    return;
  }
  if (payload->is(bookmarks_ns::legacy, "storage")) return legacy_bookmarks_iq(from, iq, nullptr);
  std::string text = xml::to_string(*payload);
  if (text.size() > max_element_bytes)
    return answer(shared(iq_error(*iq, "modify", "not-acceptable", "larger than private storage keeps")));
  owner_.users().write("xmpp private storage, keeping",
                       [here, &rt, owner, space, text = std::move(text), iq, answer = std::move(answer)](users::user_store& s) {
                         const auto [others, bytes] = s.private_xml_usage(owner, space);
                         const bool fits = others < max_namespaces && bytes + text.size() <= max_total_bytes;
                         if (fits) s.put_private_xml(owner, space, text);
                         rt.post(here, [fits, iq, answer] {
                           if (!fits) return answer(shared(iq_error(*iq, "wait", "resource-constraint", "private storage is full")));
                           auto reply = shared(iq_result(*iq));
                           answer(std::move(reply));
                         });
                       });
}

void shard_router::legacy_bookmarks_iq(const jid& from, const stanza_ptr& iq, std::shared_ptr<const xml::element> kept) {
  const jid account = from.bare();
  with_pep_and_roster(account, [this, from, iq, kept, account](pep_state& state, roster_state& roster) {
    auto reply = shared(iq_result(*iq));
    reply->erase("from");
    reply->set("to", from.str());
    const pep_node* node = state.service.node(bookmarks_ns::node);
    if (iq->attr("type") == "get") {
      reply->add(std::string(ns::private_xml), "query").add(legacy_bookmarks(node, kept.get()));
      return owner_.route(from, std::move(reply));
    }
    const xml::element& storage = *iq->child(ns::private_xml, "query")->child(bookmarks_ns::legacy, "storage");
    auto write = from_legacy_bookmarks(storage, node);
    std::vector<pep_change> changes;
    for (auto& request : write.requests) {
      request.set("from", from.str());
      pep_answer done = state.service.handle(request, pep_relation::owner);
      if (done.reply && done.reply->attr("type") == "error") {
        // The node's limits (items, bytes): what was done stays done, the client hears why.
        reply = std::make_shared<xml::element>(*done.reply);
        reply->set("id", iq->attr("id")).set("to", from.str());
        reply->erase("from");
        break;
      }
      changes.insert(changes.end(), done.changes.begin(), done.changes.end());
    }
    if (!changes.empty()) {
      keep_pep_changes(account, state, changes);
      pep_notify(account, state, roster, changes);
    }
    std::string urls = write.kept.children().empty() ? std::string{} : xml::to_string(write.kept);
    owner_.users().write("xmpp private storage, keeping bookmarks",
                         [owner = account.bare_str(), urls = std::move(urls)](users::user_store& s) {
                           s.put_private_xml(owner, bookmarks_ns::legacy, urls);
                         });
    owner_.route(from, std::move(reply));
  });
}

}  // namespace junction::xmpp
