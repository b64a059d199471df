#pragma once
// One account's personal eventing service (XEP-0163, the PEP subset of XEP-0060), sans-IO: the
// account's nodes and their items, the requests that read and change them, and what each change
// means for those who follow the nodes. Who hears of a change (recipients and their +notify
// interests, XEP-0115) and what is kept in the user store are the router's (pep_service.cpp).
//
// Nodes are created by the first publish (auto-create) with the publish-options it carries
// (XEP-0223: the precondition a later publish must meet), or explicitly. Defaults as Prosody's:
// access model "presence", one item kept, items persistent, the last item sent to new recipients.
// Bookmarks (XEP-0402) and avatars (XEP-0084) are such nodes.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.hpp"

namespace junction::xmpp {

namespace pep_ns {
inline constexpr std::string_view pubsub = "http://jabber.org/protocol/pubsub";
inline constexpr std::string_view owner = "http://jabber.org/protocol/pubsub#owner";
inline constexpr std::string_view event = "http://jabber.org/protocol/pubsub#event";
inline constexpr std::string_view errors = "http://jabber.org/protocol/pubsub#errors";
inline constexpr std::string_view data = "jabber:x:data";
}  // namespace pep_ns

struct pep_node_config {
  enum class access { open, presence, roster, whitelist };
  access access_model = access::presence;
  std::size_t max_items = 1;  // at most pep_limits::max_items ("max")
  bool persist_items = true;
  bool send_last = true;      // on_sub_and_presence; false: never
  // As kept in the user store: "access=presence;max=1;persist=1;last=1".
  std::string text() const;
  static pep_node_config parse(std::string_view text);
  bool operator==(const pep_node_config&) const = default;
};

struct pep_limits {
  std::size_t max_nodes = 64;
  std::size_t max_items = 1000;        // per node: what "max" means
  std::size_t max_bytes = 1 << 20;     // every item of the account, as XML
  std::size_t max_id = 256;            // node names and item ids
};

// How the one who asks stands to the account: what the access models go by.
enum class pep_relation { owner, subscriber /* sees the owner's presence */, contact /* on the roster */, stranger };
bool pep_may_read(pep_node_config::access model, pep_relation who) noexcept;

struct pep_item {
  std::string id;
  std::shared_ptr<const xml::element> item;  // <item id='…'>payload</item> in the pubsub namespace
  std::size_t bytes = 0;
  std::string text;                          // as written to the store
};

struct pep_node {
  std::string name;
  pep_node_config config;
  std::deque<pep_item> items;  // oldest first
};

// What a request changed, for the store and for notifications.
struct pep_change {
  enum class kind { created, configured, published, retracted, dropped /* trimmed, told nobody */, purged, deleted };
  kind what;
  std::string node;
  std::string item_id;
  bool notify = true;  // a retraction is told only when asked (notify='true')
};

struct pep_answer {
  std::shared_ptr<xml::element> reply;  // the iq's result or error, addressed back
  std::vector<pep_change> changes;
};

class pep_account {
 public:
  explicit pep_account(pep_limits limits = {}) : limits_(limits) {}

  // An iq with a pubsub or pubsub#owner payload, from `requester` standing as `who`.
  pep_answer handle(const xml::element& iq, pep_relation who);
  // disco#items of the account: the nodes `who` may read.
  std::vector<std::string> visible_nodes(pep_relation who) const;

  // The event (<event xmlns=pubsub#event>) telling of `change`, nothing for one told nobody.
  std::shared_ptr<xml::element> event_for(const pep_change& change) const;
  // The last item of each node `who` may read that sends it to new recipients, as events.
  std::vector<std::shared_ptr<xml::element>> last_items(pep_relation who) const;

  const pep_node* node(std::string_view name) const;
  // Loading from the store: a node, then its items oldest first.
  void adopt(std::string name, pep_node_config config);
  void adopt_item(std::string_view node, std::string id, std::string text);
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  pep_answer publish(const xml::element& iq, const xml::element& pubsub, pep_relation who);
  pep_answer items(const xml::element& iq, const xml::element& request, pep_relation who);
  pep_answer retract(const xml::element& iq, const xml::element& request, pep_relation who);
  pep_answer create(const xml::element& iq, const xml::element& pubsub, pep_relation who);
  pep_answer owner_request(const xml::element& iq, const xml::element& payload, pep_relation who);
  pep_node* find(std::string_view name);
  void trim(pep_node& n, std::vector<pep_change>& changes);

  pep_limits limits_;
  std::map<std::string, pep_node, std::less<>> nodes_;
  std::size_t bytes_ = 0;
  std::uint64_t next_id_ = 0;
};

// What an account advertises of its eventing service (XEP-0163 §6, with its pubsub/pep identity).
const std::vector<std::string_view>& pep_features();

// The result (or error) of an iq, from its recipient to its sender.
std::shared_ptr<xml::element> pep_iq_result(const xml::element& iq);
std::shared_ptr<xml::element> pep_iq_error(const xml::element& iq, std::string_view type, std::string_view condition,
                                           std::string_view pubsub_condition = {});

}  // namespace junction::xmpp
