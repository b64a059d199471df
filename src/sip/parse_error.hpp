#pragma once
// Why a SIP message is refused (the category "sip.parse"). message() is the reason phrase the
// answer carries ("Bad Via"); answer_status() the status: 513 for a message over the size limit,
// 505 for another SIP version, 400 for the rest (RFC 3261 §21.4, RFC 4475).
#include <string_view>
#include <system_error>
#include <type_traits>

namespace junction::sip {

// Each is named after the reason phrase it gives.
enum class parse_errc {
  message_too_large = 1,
  no_end_of_header_fields,
  bad_status_line,
  bad_status_code,
  malformed_request_line,
  bad_method,
  version_not_supported,
  bad_sip_version,
  header_field_too_long,
  too_many_header_fields,
  bad_line_end,
  malformed_header_field,
  malformed_header_name,
  multiple_content_length_header_fields,
  content_length_required,
  bad_content_length,
  content_length_larger_than_message,
  bad_request_uri,
  request_uri_with_headers,
  duplicate_single_valued_header_field,
  missing_call_id,
  bad_call_id,
  missing_cseq,
  bad_cseq,
  cseq_method_does_not_match,
  missing_from,
  missing_to,
  bad_from,
  bad_to,
  bad_header_list,
  bad_via,
  too_many_via_entries,
  bad_contact,
  too_many_contacts,
  bad_route,
  missing_via,
  bad_max_forwards,
  bad_expires,
  bad_date,
};
const std::error_category& parse_category() noexcept;
std::error_code make_error_code(parse_errc e) noexcept;

// The status a request refused with `e` deserves: 400, 505 or 513 (0 for no error).
int answer_status(std::error_code e) noexcept;
// The reason phrase for that answer: static text.
std::string_view answer_reason(std::error_code e) noexcept;

}  // namespace junction::sip

template <>
struct std::is_error_code_enum<junction::sip::parse_errc> : std::true_type {};
