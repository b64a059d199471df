#pragma once
// The answers to an iq (RFC 6120 §8.2.3): a result or an error, from its recipient back to its
// sender, with its id. One place for every service that answers (the client stream, the
// account's services, personal eventing, file upload).
#include <memory>
#include <string_view>

#include "xml/element.hpp"

namespace junction::xmpp {

xml::element iq_result(const xml::element& iq);
// type: "cancel", "modify", "auth", "wait"; condition: a stanza error condition (RFC 6120 §8.3.3);
// `text` in words when not empty. A service's own condition goes into the last child of the
// answer (its <error/>).
xml::element iq_error(const xml::element& iq, std::string_view type, std::string_view condition,
                      std::string_view text = {});
inline std::shared_ptr<xml::element> shared(xml::element e) { return std::make_shared<xml::element>(std::move(e)); }

}  // namespace junction::xmpp
