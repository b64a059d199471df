#include "xmpp/iq_reply.hpp"

#include <string>

#include "xmpp/namespaces.hpp"

namespace junction::xmpp {

xml::element iq_result(const xml::element& iq) {
  xml::element r(std::string(ns::client), "iq");
  r.set("type", "result");
  r.set("id", iq.attr("id"));
  if (iq.has("to")) r.set("from", iq.attr("to"));
  if (iq.has("from")) r.set("to", iq.attr("from"));
  return r;
}

xml::element iq_error(const xml::element& iq, std::string_view type, std::string_view condition,
                      std::string_view text) {
  xml::element r = iq_result(iq);
  r.set("type", "error");
  auto& e = r.add(std::string(ns::client), "error");
  e.set("type", type);
  e.add(std::string(ns::stanza_errors), std::string(condition));
  if (!text.empty()) e.add(std::string(ns::stanza_errors), "text").add_text(text);
  return r;
}

}  // namespace junction::xmpp
