#include "xml/element.hpp"

#include <algorithm>

namespace junction::xml {

element element::text_node(std::string text) {
  element e;
  e.text_ = std::move(text);
  return e;
}

std::string_view element::attr(std::string_view name) const noexcept {
  for (const auto& a : attributes_)
    if (a.name == name) return a.value;
  return {};
}

bool element::has(std::string_view name) const noexcept {
  return std::any_of(attributes_.begin(), attributes_.end(), [&](const attribute& a) { return a.name == name; });
}

element& element::set(std::string_view name, std::string_view value) {
  for (auto& a : attributes_)
    if (a.name == name) {
      a.value = std::string(value);
      return *this;
    }
  attributes_.push_back({std::string(name), std::string(value)});
  return *this;
}

void element::erase(std::string_view name) {
  std::erase_if(attributes_, [&](const attribute& a) { return a.name == name; });
}

element& element::add(element child) {
  children_.push_back(std::move(child));
  return children_.back();
}

element& element::add_text(std::string_view text) {
  if (!children_.empty() && children_.back().is_text()) {
    children_.back().text_.append(text);
    return children_.back();
  }
  return add(text_node(std::string(text)));
}

const element* element::child(std::string_view ns, std::string_view name) const noexcept {
  for (const auto& c : children_)
    if (c.is(ns, name)) return &c;
  return nullptr;
}

element* element::child(std::string_view ns, std::string_view name) noexcept {
  for (auto& c : children_)
    if (c.is(ns, name)) return &c;
  return nullptr;
}

const element* element::child_in(std::string_view ns) const noexcept {
  for (const auto& c : children_)
    if (!c.is_text() && c.ns_ == ns) return &c;
  return nullptr;
}

void element::remove_children(std::string_view ns, std::string_view name) {
  std::erase_if(children_, [&](const element& c) { return c.is(ns, name); });
}

std::string element::text() const {
  if (is_text()) return text_;
  std::string out;
  for (const auto& c : children_)
    if (c.is_text()) out += c.text_;
  return out;
}

std::string element::child_text(std::string_view ns, std::string_view name) const {
  const element* c = child(ns, name);
  return c ? c->text() : std::string{};
}

std::size_t element::weight() const noexcept {
  std::size_t n = ns_.size() + name_.size() + text_.size();
  for (const auto& a : attributes_) n += a.name.size() + a.value.size();
  for (const auto& c : children_) n += c.weight();
  return n;
}

void escape(std::string_view text, std::string& out, bool attribute) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"':
        if (attribute) out += "&quot;";
        else out += c;
        break;
      case '\'':
        if (attribute) out += "&apos;";
        else out += c;
        break;
      // What a parser would normalize (a CR in text, any line break or tab in an attribute
      // value) goes as a character reference, so that it reads back as written.
      case '\r': out += "&#13;"; break;
      case '\n':
        if (attribute) out += "&#10;";
        else out += c;
        break;
      case '\t':
        if (attribute) out += "&#9;";
        else out += c;
        break;
      default: out += c;
    }
  }
}

namespace {

void write_attribute(const attribute& a, std::string& out, int& prefixes) {
  out += ' ';
  const auto space = a.name.find(' ');
  if (space == std::string::npos) {
    out += a.name;
  } else {
    const std::string_view ns = std::string_view(a.name).substr(0, space);
    const std::string_view local = std::string_view(a.name).substr(space + 1);
    if (ns == xml_ns) {
      out += "xml:";
    } else {
      // A prefix of its own, declared on the spot: qualified attributes are rare in stanzas.
      const std::string prefix = "a" + std::to_string(prefixes++);
      out += "xmlns:" + prefix + "=\"";
      escape(ns, out, true);
      out += "\" " + prefix + ":";
    }
    out += local;
  }
  out += "=\"";
  escape(a.value, out, true);
  out += '"';
}

}  // namespace

void write(const element& e, std::string& out, std::string_view parent_ns) {
  if (e.is_text()) {
    escape(e.text(), out, false);
    return;
  }
  out += '<';
  out += e.name();
  if (e.ns() != parent_ns) {
    out += " xmlns=\"";
    escape(e.ns(), out, true);
    out += '"';
  }
  int prefixes = 0;
  for (const auto& a : e.attributes()) write_attribute(a, out, prefixes);
  if (e.children().empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const auto& c : e.children()) write(c, out, e.ns());
  out += "</";
  out += e.name();
  out += '>';
}

std::string to_string(const element& e, std::string_view parent_ns) {
  std::string out;
  write(e, out, parent_ns);
  return out;
}

void element::move_namespace(std::string_view from, std::string_view to) {
  if (!is_text() && ns_ == from) ns_ = to;
  for (auto& c : children_) c.move_namespace(from, to);
}

}  // namespace junction::xml
