#include "sip/parse_error.hpp"

#include "media/enum_category.hpp"

#include <string>

namespace junction::sip {
namespace {

std::string_view phrase(parse_errc e) noexcept {
  switch (e) {
      case parse_errc::message_too_large: return "Message Too Large";
      case parse_errc::no_end_of_header_fields: return "No End Of Header Fields";
      case parse_errc::bad_status_line: return "Bad Status-Line";
      case parse_errc::bad_status_code: return "Bad Status-Code";
      case parse_errc::malformed_request_line: return "Malformed Request-Line";
      case parse_errc::bad_method: return "Bad Method";
      case parse_errc::version_not_supported: return "Version Not Supported";
      case parse_errc::bad_sip_version: return "Bad SIP-Version";
      case parse_errc::header_field_too_long: return "Header Field Too Long";
      case parse_errc::too_many_header_fields: return "Too Many Header Fields";
      case parse_errc::bad_line_end: return "Bad Line End";
      case parse_errc::malformed_header_field: return "Malformed Header Field";
      case parse_errc::malformed_header_name: return "Malformed Header Name";
      case parse_errc::multiple_content_length_header_fields: return "Multiple Content-Length Header Fields";
      case parse_errc::content_length_required: return "Content-Length Required";
      case parse_errc::bad_content_length: return "Bad Content-Length";
      case parse_errc::content_length_larger_than_message: return "Content-Length Larger Than Message";
      case parse_errc::bad_request_uri: return "Bad Request-URI";
      case parse_errc::request_uri_with_headers: return "Request-URI With Headers";
      case parse_errc::duplicate_single_valued_header_field: return "Duplicate Single-Valued Header Field";
      case parse_errc::missing_call_id: return "Missing Call-ID";
      case parse_errc::bad_call_id: return "Bad Call-ID";
      case parse_errc::missing_cseq: return "Missing CSeq";
      case parse_errc::bad_cseq: return "Bad CSeq";
      case parse_errc::cseq_method_does_not_match: return "CSeq Method Does Not Match";
      case parse_errc::missing_from: return "Missing From";
      case parse_errc::missing_to: return "Missing To";
      case parse_errc::bad_from: return "Bad From";
      case parse_errc::bad_to: return "Bad To";
      case parse_errc::bad_header_list: return "Bad Header List";
      case parse_errc::bad_via: return "Bad Via";
      case parse_errc::too_many_via_entries: return "Too Many Via Entries";
      case parse_errc::bad_contact: return "Bad Contact";
      case parse_errc::too_many_contacts: return "Too Many Contacts";
      case parse_errc::bad_route: return "Bad Route";
      case parse_errc::missing_via: return "Missing Via";
      case parse_errc::bad_max_forwards: return "Bad Max-Forwards";
      case parse_errc::bad_expires: return "Bad Expires";
      case parse_errc::bad_date: return "Bad Date";
  }
  return "Bad Request";
}

}  // namespace

const std::error_category& parse_category() noexcept {
  static const enum_category<parse_errc> category{"sip.parse", phrase};
  return category;
}

std::error_code make_error_code(parse_errc e) noexcept { return {static_cast<int>(e), parse_category()}; }

int answer_status(std::error_code e) noexcept {
  if (!e) return 0;
  if (e == parse_errc::message_too_large) return 513;
  if (e == parse_errc::version_not_supported) return 505;
  return 400;
}

std::string_view answer_reason(std::error_code e) noexcept {
  if (!e) return {};
  if (e.category() != parse_category()) return "Bad Request";
  return phrase(static_cast<parse_errc>(e.value()));
}

}  // namespace junction::sip
