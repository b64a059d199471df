#include "sip/pidf.hpp"

#include "media/enum_category.hpp"

#include <expat.h>
#include <fmt/format.h>

#include <cstring>
#include <memory>

namespace junction::sip {
namespace {

// With XML_ParserCreateNS(…, ' '), element names arrive as "namespace-URI local-name".
constexpr std::string_view pidf_ns = "urn:ietf:params:xml:ns:pidf";

struct parser_free {
  void operator()(XML_Parser p) const noexcept { XML_ParserFree(p); }
};

struct walk {
  XML_Parser parser;
  const pidf_limits& limits;
  pidf_summary summary;
  std::error_code error;
  std::size_t depth = 0, elements = 0;
  bool in_basic = false, in_note = false, have_note = false;
  std::string text{};

  void fail(pidf_errc why) {
    if (!error) error = why;
    XML_StopParser(parser, XML_FALSE);
  }
};

bool is_pidf(const XML_Char* name, std::string_view local) {
  std::string_view n(name);
  return n.size() == pidf_ns.size() + 1 + local.size() && n.starts_with(pidf_ns) &&
         n[pidf_ns.size()] == ' ' && n.substr(pidf_ns.size() + 1) == local;
}

void on_start(void* data, const XML_Char* name, const XML_Char** attributes) {
  auto& w = *static_cast<walk*>(data);
  if (++w.depth > w.limits.max_depth) return w.fail(pidf_errc::too_deep);
  if (++w.elements > w.limits.max_elements) return w.fail(pidf_errc::too_many_elements);
  if (w.depth == 1) {
    if (!is_pidf(name, "presence")) return w.fail(pidf_errc::not_presence);
    for (auto a = attributes; *a; a += 2)
      if (std::strcmp(a[0], "entity") == 0) w.summary.entity = a[1];
    if (w.summary.entity.empty()) return w.fail(pidf_errc::no_entity);
    return;
  }
  if (is_pidf(name, "basic")) {
    w.in_basic = true;
    w.text.clear();
  } else if (is_pidf(name, "note") && !w.have_note) {
    w.in_note = true;
    w.text.clear();
  }
}

void on_end(void* data, const XML_Char* name) {
  auto& w = *static_cast<walk*>(data);
  --w.depth;
  if (w.in_basic && is_pidf(name, "basic")) {
    w.in_basic = false;
    if (w.text != "open" && w.text != "closed") return w.fail(pidf_errc::bad_basic);
    w.summary.basic.push_back(w.text);
  } else if (w.in_note && is_pidf(name, "note")) {
    w.in_note = false;
    w.have_note = true;
    w.summary.note = w.text;
  }
}

void on_text(void* data, const XML_Char* s, int len) {
  auto& w = *static_cast<walk*>(data);
  if ((w.in_basic || w.in_note) && w.text.size() < 1024) w.text.append(s, static_cast<std::size_t>(len));
}

// Entities and DTDs are how XML documents grow without bound ("billion laughs"); presence
// documents need neither.
void on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  static_cast<walk*>(data)->fail(pidf_errc::dtd);
}

void on_entity(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
               const XML_Char*, const XML_Char*) {
  static_cast<walk*>(data)->fail(pidf_errc::entity_declaration);
}

std::string_view describe(pidf_errc e) noexcept {
  switch (e) {
    case pidf_errc::not_well_formed: return "not well-formed XML";
    case pidf_errc::not_presence: return "the root is not a PIDF <presence> element";
    case pidf_errc::no_entity: return "<presence> has no entity";
    case pidf_errc::bad_basic: return "<basic> is neither open nor closed";
    case pidf_errc::too_deep: return "nested too deeply";
    case pidf_errc::too_many_elements: return "too many elements";
    case pidf_errc::dtd: return "a DTD is not allowed";
    case pidf_errc::entity_declaration: return "entity declarations are not allowed";
    case pidf_errc::too_large: return "too large";
    case pidf_errc::out_of_memory: return "out of memory";
  }
  return "unknown PIDF error";
}

}  // namespace

const std::error_category& pidf_category() noexcept {
  static const enum_category<pidf_errc> category{"sip.pidf", describe};
  return category;
}

std::error_code make_error_code(pidf_errc e) noexcept { return {static_cast<int>(e), pidf_category()}; }

pidf_result parse_pidf(std::string_view document, const pidf_limits& limits) {
  std::unique_ptr<XML_ParserStruct, parser_free> parser(XML_ParserCreateNS("UTF-8", ' '));
  if (!parser) return {std::nullopt, pidf_errc::out_of_memory, {}};
  walk w{parser.get(), limits, {}, {}};
  XML_SetUserData(parser.get(), &w);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  XML_SetCharacterDataHandler(parser.get(), on_text);
  XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
  XML_SetEntityDeclHandler(parser.get(), on_entity);
  if (document.size() > static_cast<std::size_t>(INT32_MAX)) return {std::nullopt, pidf_errc::too_large, {}};
  auto status = XML_Parse(parser.get(), document.data(), static_cast<int>(document.size()), XML_TRUE);
  if (w.error) return {std::nullopt, w.error, {}};
  if (status != XML_STATUS_OK)
    return {std::nullopt, pidf_errc::not_well_formed,
            fmt::format("{} at line {}", XML_ErrorString(XML_GetErrorCode(parser.get())),
                        XML_GetCurrentLineNumber(parser.get()))};
  return {std::move(w.summary), {}, {}};
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string make_pidf(std::string_view entity, bool open, std::string_view note) {
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<presence xmlns=\"{}\" entity=\"{}\">\n"
      "  <tuple id=\"registration\">\n"
      "    <status><basic>{}</basic></status>\n",
      pidf_ns, xml_escape(entity), open ? "open" : "closed");
  if (!note.empty()) out += fmt::format("    <note>{}</note>\n", xml_escape(note));
  out += "  </tuple>\n</presence>\n";
  return out;
}

}  // namespace junction::sip
