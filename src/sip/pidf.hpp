#pragma once
// Presence documents (PIDF, RFC 3863): the checks a presence server makes on what a publisher
// sends, and the document it writes itself when nobody has published. Parsed with expat, with
// namespaces resolved (a document may bind the PIDF namespace to any prefix), no DTDs, and
// limits on nesting and element count.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace junction::sip {

inline constexpr std::string_view pidf_content_type = "application/pidf+xml";

struct pidf_limits {
  std::size_t max_depth = 32;
  std::size_t max_elements = 4096;
};

// What a valid document says, as far as this server reads it.
struct pidf_summary {
  std::string entity;                 // the presence element's entity attribute
  std::vector<std::string> basic;     // each tuple's <basic> ("open", "closed"), in order
  std::string note;                   // the first <note> of the document, if any
};

// Why a document is refused (the category "sip.pidf"; message() says it in words).
enum class pidf_errc {
  not_well_formed = 1,  // expat refused it (where: its message and line)
  not_presence,         // the root is not a PIDF <presence> element
  no_entity,            // <presence> has no entity
  bad_basic,            // a <basic> is neither open nor closed
  too_deep,             // nested deeper than pidf_limits::max_depth
  too_many_elements,    // more than pidf_limits::max_elements
  dtd,                  // a DTD (documents grow without bound with one: "billion laughs")
  entity_declaration,   // an entity declaration (the same)
  too_large,            // more than expat takes in one call
  out_of_memory,
};
const std::error_category& pidf_category() noexcept;
std::error_code make_error_code(pidf_errc e) noexcept;

struct pidf_result {
  std::optional<pidf_summary> summary;
  std::error_code error;  // why the document was refused
  std::string where;      // for not_well_formed: expat's message and the line, for the log
  bool ok() const noexcept { return summary.has_value(); }
};

pidf_result parse_pidf(std::string_view document, const pidf_limits& limits = {});

// The document for a presentity nobody published for: one tuple, open or closed, with a note.
std::string make_pidf(std::string_view entity, bool open, std::string_view note = {});

// Text made safe for XML character data and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace junction::sip

template <>
struct std::is_error_code_enum<junction::sip::pidf_errc> : std::true_type {};
