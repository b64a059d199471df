#pragma once
// Bookmarks for old clients (XEP-0402 §5.3, "urn:xmpp:bookmarks:1#compat"), sans-IO: an account's
// bookmarks live in its eventing node urn:xmpp:bookmarks:1, one item per room; a client that still
// keeps them in private XML storage (XEP-0048 in XEP-0049, <storage xmlns='storage:bookmarks'/>)
// reads that node as one storage element, and its writes become publishes and retractions on the
// node, so old and new clients see the same bookmarks and new ones are told of the old one's
// changes. What XEP-0402 has no place for (URL bookmarks) stays in private storage.
#include <string_view>
#include <vector>

#include "xml/element.hpp"
#include "xmpp/pep_account.hpp"

namespace junction::xmpp {

namespace bookmarks_ns {
inline constexpr std::string_view node = "urn:xmpp:bookmarks:1";
inline constexpr std::string_view compat = "urn:xmpp:bookmarks:1#compat";
inline constexpr std::string_view legacy = "storage:bookmarks";
}  // namespace bookmarks_ns

// The storage element an old client reads: the node's rooms (XEP-0402 items as XEP-0048
// conferences), then `kept`'s URL bookmarks (what private storage holds for the namespace).
xml::element legacy_bookmarks(const pep_node* node, const xml::element* kept);

struct legacy_bookmarks_write {
  // Requests for the account's eventing service (pep_account::handle as the owner), in order:
  // a publish for each new or changed room (with XEP-0402's node configuration as publish-options
  // when the node is still to be made), a retraction for each room no longer there.
  std::vector<xml::element> requests;
  // What private storage keeps: the storage element with its URL bookmarks only.
  xml::element kept{std::string(bookmarks_ns::legacy), "storage"};
};

// What storing `storage` means, given the node as it is. Conferences without a valid room JID
// are left out; a room's XEP-0402 extensions survive an old client's write.
legacy_bookmarks_write from_legacy_bookmarks(const xml::element& storage, const pep_node* node);

}  // namespace junction::xmpp
