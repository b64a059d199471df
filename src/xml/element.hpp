#pragma once
// A small XML element tree for protocols that speak in XML fragments (XMPP stanzas, presence
// documents): names with their namespace resolved, attributes in order, children in order with
// text between them. What a stanza needs and no more: no comments, processing instructions or
// DTDs (the parser refuses them), no prefixes (the writer declares a default namespace wherever
// an element's differs from its parent's).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::xml {

struct attribute {
  std::string name;  // "type", or "namespace-URI name" for a qualified one ("http://www.w3.org/XML/1998/namespace lang")
  std::string value;
};

class element {
 public:
  element() = default;
  element(std::string ns, std::string name) : ns_(std::move(ns)), name_(std::move(name)) {}
  // A text node: no name; what it says is text().
  static element text_node(std::string text);

  const std::string& name() const noexcept { return name_; }
  const std::string& ns() const noexcept { return ns_; }
  bool is_text() const noexcept { return name_.empty(); }
  bool is(std::string_view ns, std::string_view name) const noexcept { return name_ == name && ns_ == ns; }

  // The attribute's value, empty when it is absent (see has()).
  std::string_view attr(std::string_view name) const noexcept;
  bool has(std::string_view name) const noexcept;
  element& set(std::string_view name, std::string_view value);  // adds or replaces
  void erase(std::string_view name);
  const std::vector<attribute>& attributes() const noexcept { return attributes_; }

  const std::vector<element>& children() const noexcept { return children_; }
  std::vector<element>& children() noexcept { return children_; }
  element& add(element child);                                          // returns the added child
  element& add(std::string ns, std::string name) { return add(element(std::move(ns), std::move(name))); }
  element& add_text(std::string_view text);                             // merged with a text node before it
  // The first child element with that name (and namespace), or nullptr.
  const element* child(std::string_view ns, std::string_view name) const noexcept;
  element* child(std::string_view ns, std::string_view name) noexcept;
  // The first child element of that namespace, whatever its name.
  const element* child_in(std::string_view ns) const noexcept;
  void remove_children(std::string_view ns, std::string_view name);
  // The text directly inside this element (its text nodes joined), or the text node's own.
  std::string text() const;
  // A child's text, empty when there is no such child.
  std::string child_text(std::string_view ns, std::string_view name) const;

  // This element and every descendant in namespace `from` move to `to` (a stanza between
  // jabber:client and jabber:server, RFC 6120 §4.8.3).
  void move_namespace(std::string_view from, std::string_view to);

  // Bytes as a rough measure of what the element holds (names, values, text): for limits.
  std::size_t weight() const noexcept;

 private:
  std::string ns_;
  std::string name_;  // empty for a text node
  std::string text_;  // a text node's text
  std::vector<attribute> attributes_;
  std::vector<element> children_;
};

// Appends `e` as XML to `out`. `parent_ns` is the namespace in scope where it is written: an
// element in another one gets an xmlns attribute. "http://www.w3.org/XML/1998/namespace lang" is
// written as xml:lang; other qualified attributes get a prefix of their own.
void write(const element& e, std::string& out, std::string_view parent_ns = {});
std::string to_string(const element& e, std::string_view parent_ns = {});

// Escapes text for character data (&, <, >) or an attribute value in double quotes (also ").
void escape(std::string_view text, std::string& out, bool attribute);

inline constexpr std::string_view xml_ns = "http://www.w3.org/XML/1998/namespace";

}  // namespace junction::xml
